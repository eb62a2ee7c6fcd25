package com.google.protobuf;

/**
 * A stand-in, by name, for protocol buffers' interface of every message of the full runtime (protobuf is not on keyshift's
 * classpath): {@code KeyshiftApiTest} checks that a key type implementing it is refused.
 */
public interface MessageOrBuilder {}
