package dev.netnstoolkit.jna;

import dev.netnstoolkit.api.NamespaceAlreadyExistsException;
import dev.netnstoolkit.api.NamespaceException;
import dev.netnstoolkit.api.NamespaceNotFoundException;
import dev.netnstoolkit.api.NamespacePermissionException;
import dev.netnstoolkit.api.NamespaceSwitchException;
import dev.netnstoolkit.api.NotANetworkNamespaceException;

/**
 * errno to the typed exceptions of toolkit-api, in one place. Messages name the call, the target and
 * the errno. What an errno means depends on the call: ENOENT from opening a namespace is "no such
 * namespace" ({@link #lookup}), from mkdir or mount it is not ({@link #of}).
 */
final class Errors {

    static final String CAP_SYS_ADMIN = "CAP_SYS_ADMIN";
    static final String CAP_NET_ADMIN = "CAP_NET_ADMIN";
    static final String RUN_DIR_WRITE = "CAP_SYS_ADMIN and write access to /run/netns (run as root)";

    private Errors() {
    }

    /**
     * The exception for a failed call: EPERM and EACCES are a missing privilege, EEXIST a name taken,
     * anything else a plain {@link NamespaceException}.
     *
     * @param capability what EPERM/EACCES would mean the caller lacks
     */
    static NamespaceException of(String syscall, int errno, String target, String capability) {
        String msg = message(syscall, errno, target);
        switch (errno) {
            case LibC.EEXIST:
                return new NamespaceAlreadyExistsException("namespace exists already: " + msg, syscall, errno, target, null);
            case LibC.EPERM:
            case LibC.EACCES:
                return new NamespacePermissionException("permission denied, needs " + capability + ": " + msg,
                        syscall, errno, target, capability);
            default:
                return new NamespaceException(msg, syscall, errno, target, null);
        }
    }

    /** As {@link #of}, for a call that looks a namespace up by path: ENOENT, ENOTDIR and ESRCH mean it is not there. */
    static NamespaceException lookup(String syscall, int errno, String target, String capability) {
        if (errno == LibC.ENOENT || errno == LibC.ESRCH || errno == LibC.ENOTDIR) {
            return new NamespaceNotFoundException("no such namespace: " + message(syscall, errno, target),
                    syscall, errno, target, null);
        }
        return of(syscall, errno, target, capability);
    }

    static NamespaceException notANetworkNamespace(String target, String why) {
        return new NotANetworkNamespaceException(target + " is not a network namespace: " + why, null, 0, target, null);
    }

    static NamespaceException switchFailed(int errno, String target) {
        if (errno == LibC.EPERM || errno == LibC.EACCES) {
            return of("setns", errno, target, CAP_SYS_ADMIN);
        }
        return new NamespaceSwitchException(message("setns", errno, target + ", CLONE_NEWNET"), "setns", errno, target, null);
    }

    static String message(String syscall, int errno, String target) {
        return syscall + "(" + target + ") failed: " + strerror(errno) + " (errno " + errno + ")";
    }

    static String strerror(int errno) {
        String s = LibC.strerror(errno);
        return s != null ? s : "errno " + errno;
    }
}
