package io.keyshift.migration;

import io.keyshift.api.Keyshift;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class ShadowScopeTest {

    @Test
    void nestedScopesRestoreTheOuterFlag() {
        assertThat(Keyshift.isShadowCopy()).isFalse();
        boolean outer = ShadowScope.enter(true);
        try {
            assertThat(Keyshift.isShadowCopy()).isTrue();
            boolean inner = ShadowScope.enter(false);
            try {
                assertThat(Keyshift.isShadowCopy()).isFalse();
                boolean innermost = ShadowScope.enter(true);
                assertThat(Keyshift.isShadowCopy()).isTrue();
                ShadowScope.exit(innermost);
                assertThat(Keyshift.isShadowCopy()).isFalse();
            } finally {
                ShadowScope.exit(inner);
            }
            assertThat(Keyshift.isShadowCopy()).isTrue();
        } finally {
            ShadowScope.exit(outer);
        }
        assertThat(Keyshift.isShadowCopy()).isFalse();
    }

    @Test
    void aPrimaryScopeOutsideAnyShadowLeavesTheGateAlone() {
        // keyshift's calls for a primary enter a scope with false where no shadow scope is open
        boolean top = ShadowScope.enter(false);
        try {
            boolean inner = ShadowScope.enter(true);
            try {
                assertThat(Keyshift.isShadowCopy()).isTrue();
            } finally {
                ShadowScope.exit(inner);
            }
            assertThat(Keyshift.isShadowCopy()).isFalse();
        } finally {
            ShadowScope.exit(top);
        }
        boolean again = ShadowScope.enter(true);
        assertThat(Keyshift.isShadowCopy()).isTrue();
        ShadowScope.exit(again);
        assertThat(Keyshift.isShadowCopy()).isFalse();
    }

    @Test
    void aShadowScopeOnOneThreadIsInvisibleToAnother() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch checked = new CountDownLatch(1);
        CompletableFuture<Boolean> inside = CompletableFuture.supplyAsync(() -> {
            boolean before = ShadowScope.enter(true);
            try {
                entered.countDown();
                checked.await(10, TimeUnit.SECONDS);
                return Keyshift.isShadowCopy();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            } finally {
                ShadowScope.exit(before);
            }
        });
        assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(Keyshift.isShadowCopy()).isFalse();
        boolean before = ShadowScope.enter(true);
        assertThat(Keyshift.isShadowCopy()).isTrue();
        ShadowScope.exit(before);
        assertThat(Keyshift.isShadowCopy()).isFalse();
        checked.countDown();
        assertThat(inside.get(10, TimeUnit.SECONDS)).isTrue();
        assertThat(Keyshift.isShadowCopy()).isFalse();
    }
}
