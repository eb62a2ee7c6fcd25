package io.keyshift.route;

/**
 * What a routed copy of a record is: the authoritative one (PRIMARY), the migration's check copy (SHADOW), or the
 * authoritative copy of a split key's record in one of its key groups (PARTIAL: its window result is a partial
 * aggregate that the resolver merges with the key's other partials).
 */
public enum Role {
    PRIMARY,
    SHADOW,
    PARTIAL
}
