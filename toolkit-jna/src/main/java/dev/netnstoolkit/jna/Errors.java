package dev.netnstoolkit.jna;

import dev.netnstoolkit.api.NamespaceAlreadyExistsException;
import dev.netnstoolkit.api.NamespaceException;
import dev.netnstoolkit.api.NamespaceNotFoundException;
import dev.netnstoolkit.api.NamespacePermissionException;
import dev.netnstoolkit.api.NamespaceSwitchException;
import dev.netnstoolkit.api.NotANetworkNamespaceException;

/** errno to the typed exceptions of toolkit-api, in one place. Messages name the call, the target and the errno. */
final class Errors {

    static final String CAP_SYS_ADMIN = "CAP_SYS_ADMIN";
    static final String CAP_NET_ADMIN = "CAP_NET_ADMIN";
    static final String RUN_DIR_WRITE = "CAP_SYS_ADMIN and write access to /run/netns (run as root)";

    private Errors() {
    }

    /**
     * The exception for a failed call.
     *
     * @param capability what EPERM/EACCES would mean the caller lacks
     */
    static NamespaceException of(String syscall, int errno, String target, String capability) {
        String msg = syscall + "(" + target + ") failed: " + strerror(errno) + " (errno " + errno + ")";
        switch (errno) {
            case LibC.ENOENT:
            case LibC.ESRCH:
                return new NamespaceNotFoundException("no such namespace: " + msg, syscall, errno, target, null);
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

    static NamespaceException notANetworkNamespace(String target, String why) {
        return new NotANetworkNamespaceException(target + " is not a network namespace: " + why, null, 0, target, null);
    }

    static NamespaceException switchFailed(int errno, String target) {
        if (errno == LibC.EPERM || errno == LibC.EACCES) {
            return of("setns", errno, target, CAP_SYS_ADMIN);
        }
        return new NamespaceSwitchException("setns(" + target + ", CLONE_NEWNET) failed: " + strerror(errno)
                + " (errno " + errno + ")", "setns", errno, target, null);
    }

    static String strerror(int errno) {
        String s = LibC.strerror(errno);
        return s != null ? s : "errno " + errno;
    }
}
