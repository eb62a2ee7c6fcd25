package io.keyshift.jobs.cluster;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The TCP sockets a process listens on, read from Linux's {@code /proc}: the socket inodes among
 * {@code /proc/PID/fd}, matched with the LISTEN rows (state 0A) of {@code /proc/PID/net/tcp} and {@code tcp6}.
 */
final class ListeningSockets {
    /** One listening socket: its local address as text ({@code 127.0.0.1}, {@code ::}, ...) and port. */
    record Socket(String address, int port, boolean loopback) {
        @Override
        public String toString() {
            return (address.contains(":") ? "[" + address + "]" : address) + ":" + port;
        }
    }

    private ListeningSockets() {}

    /** The listening TCP sockets of process {@code pid}. */
    static List<Socket> of(long pid) throws IOException {
        Set<String> inodes = new HashSet<>();
        try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            for (Path fd : (Iterable<Path>) fds::iterator) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[")) {
                        inodes.add(target.substring(8, target.length() - 1));
                    }
                } catch (IOException e) {
                    // closed while listing
                }
            }
        }
        List<Socket> out = new ArrayList<>();
        for (String table : List.of("tcp", "tcp6")) {
            List<String> rows = Files.readAllLines(Path.of("/proc", Long.toString(pid), "net", table));
            for (String row : rows.subList(1, rows.size())) {
                String[] f = row.trim().split("\\s+");
                if (!f[3].equals("0A") || !inodes.contains(f[9])) {
                    continue;
                }
                String[] local = f[1].split(":");
                out.add(decode(local[0], Integer.parseInt(local[1], 16)));
            }
        }
        return out;
    }

    /** /proc's hex address: IPv4 as one little-endian 32-bit word, IPv6 as four. */
    static Socket decode(String hex, int port) {
        byte[] b = new byte[hex.length() / 2];
        for (int word = 0; word < b.length / 4; word++) {
            for (int i = 0; i < 4; i++) {
                int at = word * 8 + (3 - i) * 2;
                b[word * 4 + i] = (byte) Integer.parseInt(hex.substring(at, at + 2), 16);
            }
        }
        try {
            java.net.InetAddress a = java.net.InetAddress.getByAddress(b);
            boolean mappedLoopback = b.length == 16 && isMappedV4(b) && b[12] == 127;
            return new Socket(a.getHostAddress(), port, a.isLoopbackAddress() || mappedLoopback);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException("address " + hex, e);
        }
    }

    private static boolean isMappedV4(byte[] b) {
        for (int i = 0; i < 10; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return b[10] == (byte) 0xff && b[11] == (byte) 0xff;
    }
}
