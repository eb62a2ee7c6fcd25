package io.keyshift.route;

/** Whether a routed copy of a record is the authoritative one (PRIMARY) or the migration's check copy (SHADOW). */
public enum Role {
    PRIMARY,
    SHADOW
}
