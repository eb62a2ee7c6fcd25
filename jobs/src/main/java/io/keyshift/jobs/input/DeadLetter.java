package io.keyshift.jobs.input;

/**
 * A row that could not become an event: its raw text (or the bytes' Latin-1 rendering if they were not text), its
 * 1-based line number, and why.
 */
public record DeadLetter(String raw, long line, String reason) {}
