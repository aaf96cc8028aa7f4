package dev.netnstoolkit.jna;

import com.sun.jna.Pointer;
import dev.netnstoolkit.api.CommandNotRunException;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Processes for {@code exec}: posix_spawn from the calling thread (in its namespace), waiting without
 * reaping (waitid WNOWAIT), reaping and signalling. Only C buffers from malloc cross to libc (see
 * {@link LibC}).
 */
final class ProcessCalls {

    private ProcessCalls() {
    }

    static long spawn(List<String> argv, Map<String, String> env) {
        List<String> envp = new ArrayList<>(env.size());
        env.forEach((k, v) -> envp.add(k + "=" + v));
        try (CBuffers buffers = new CBuffers()) {
            Pointer argvp = buffers.stringArray(argv);
            Pointer envpp = buffers.stringArray(envp);
            Pointer actions = buffers.alloc(LibC.SPAWN_FILE_ACTIONS_SIZE);
            Pointer attr = buffers.alloc(LibC.SPAWNATTR_SIZE);
            Pointer emptySet = buffers.alloc(LibC.SIGSET_SIZE);
            Pointer fullSet = buffers.alloc(LibC.SIGSET_SIZE);
            LibC.sigemptyset(emptySet);
            LibC.sigfillset(fullSet);
            LibC.posix_spawn_file_actions_init(actions);
            LibC.posix_spawnattr_init(attr);
            try {
                // Only 0, 1, 2 reach the child; signals back to defaults and unblocked, as a shell would leave them.
                LibC.posix_spawn_file_actions_addclosefrom_np(actions, 3);
                LibC.posix_spawnattr_setflags(attr, (short) (LibC.POSIX_SPAWN_SETSIGDEF | LibC.POSIX_SPAWN_SETSIGMASK));
                LibC.posix_spawnattr_setsigmask(attr, emptySet);
                LibC.posix_spawnattr_setsigdefault(attr, fullSet);
                int[] pid = new int[1];
                int rc = LibC.posix_spawnp(pid, argv.get(0), actions, attr, argvp, envpp);
                if (rc != 0) {
                    String cmd = argv.get(0);
                    int status = rc == LibC.ENOENT || rc == LibC.ENOTDIR ? 127 : 126;
                    throw new CommandNotRunException("cannot run " + cmd + ": " + Errors.strerror(rc) + " (errno " + rc + ")",
                            "posix_spawnp", rc, cmd, status);
                }
                return pid[0];
            } finally {
                LibC.posix_spawnattr_destroy(attr);
                LibC.posix_spawn_file_actions_destroy(actions);
            }
        }
    }

    static void awaitExit(long pid) {
        byte[] info = new byte[LibC.SIGINFO_SIZE];
        while (LibC.waitid(LibC.P_PID, (int) pid, info, LibC.WEXITED | LibC.WNOWAIT) != 0) {
            int errno = LibC.errno();
            if (errno != LibC.EINTR) {
                throw Errors.of("waitid", errno, "pid " + pid, "a child of this process");
            }
        }
    }

    static int reap(long pid) {
        int[] status = new int[1];
        while (LibC.waitpid((int) pid, status, 0) < 0) {
            int errno = LibC.errno();
            if (errno != LibC.EINTR) {
                throw Errors.of("waitpid", errno, "pid " + pid, "a child of this process");
            }
        }
        int s = status[0];
        int termsig = s & 0x7f;
        return termsig == 0 ? (s >> 8) & 0xff : 128 + termsig;
    }

    static void kill(long pid, int signal) {
        if (LibC.kill((int) pid, signal) != 0 && LibC.errno() != LibC.ESRCH) {
            throw Errors.of("kill", LibC.errno(), "pid " + pid, "a child of this process");
        }
    }

    /** malloc'd C buffers freed together; no JNA Memory (see {@link LibC}). */
    private static final class CBuffers implements AutoCloseable {
        private final List<Long> blocks = new ArrayList<>();

        Pointer alloc(long size) {
            long p = LibC.malloc(size);
            if (p == 0) {
                throw new OutOfMemoryError("malloc(" + size + ")");
            }
            blocks.add(p);
            Pointer ptr = new Pointer(p);
            ptr.clear(size);
            return ptr;
        }

        /** A NULL-terminated char*[] of UTF-8 strings. */
        Pointer stringArray(List<String> strings) {
            Pointer array = alloc((long) (strings.size() + 1) * Long.BYTES);
            for (int i = 0; i < strings.size(); i++) {
                byte[] bytes = strings.get(i).getBytes(StandardCharsets.UTF_8);
                Pointer s = alloc(bytes.length + 1L);
                s.write(0, bytes, 0, bytes.length);
                array.setPointer((long) i * Long.BYTES, s);
            }
            return array;
        }

        @Override
        public void close() {
            blocks.forEach(LibC::free);
        }
    }
}
