package dev.netnstoolkit.api;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** {@code struct sockaddr} bytes for the families {@link SocketSpec} names (x86_64 and aarch64 layouts). */
public final class Sockaddr {

    private Sockaddr() {
    }

    /** {@code sockaddr_in} or {@code sockaddr_in6} of {@code address}. */
    public static byte[] inet(InetSocketAddress address) {
        InetAddress a = address.getAddress();
        if (a == null) {
            throw new IllegalArgumentException("unresolved address " + address.getHostString() + ": resolve it first");
        }
        if (a instanceof Inet4Address) {
            ByteBuffer b = ByteBuffer.allocate(16);
            b.order(ByteOrder.nativeOrder()).putShort((short) SocketSpec.AF_INET);
            b.order(ByteOrder.BIG_ENDIAN).putShort((short) address.getPort()).put(a.getAddress());
            return b.array();
        }
        ByteBuffer b = ByteBuffer.allocate(28);
        b.order(ByteOrder.nativeOrder()).putShort((short) SocketSpec.AF_INET6);
        b.order(ByteOrder.BIG_ENDIAN).putShort((short) address.getPort()).putInt(0).put(a.getAddress());
        b.order(ByteOrder.nativeOrder()).putInt(a instanceof Inet6Address v6 ? v6.getScopeId() : 0);
        return b.array();
    }

    /** {@code sockaddr_nl} listening to the multicast {@code groups} (a bit mask, e.g. RTMGRP_LINK). */
    public static byte[] netlink(int groups) {
        ByteBuffer b = ByteBuffer.allocate(12).order(ByteOrder.nativeOrder());
        b.putShort((short) SocketSpec.AF_NETLINK).putShort((short) 0).putInt(0).putInt(groups);
        return b.array();
    }

    /** The address of a {@code sockaddr_in} or {@code sockaddr_in6}, or null for another family. */
    public static InetSocketAddress toInet(byte[] sockaddr) {
        if (sockaddr == null || sockaddr.length < 2) {
            return null;
        }
        ByteBuffer b = ByteBuffer.wrap(sockaddr).order(ByteOrder.nativeOrder());
        int family = b.getShort();
        try {
            if (family == SocketSpec.AF_INET && sockaddr.length >= 8) {
                int port = b.order(ByteOrder.BIG_ENDIAN).getShort() & 0xffff;
                byte[] ip = new byte[4];
                b.get(ip);
                return new InetSocketAddress(InetAddress.getByAddress(ip), port);
            }
            if (family == SocketSpec.AF_INET6 && sockaddr.length >= 24) {
                int port = b.order(ByteOrder.BIG_ENDIAN).getShort() & 0xffff;
                b.getInt();
                byte[] ip = new byte[16];
                b.get(ip);
                return new InetSocketAddress(InetAddress.getByAddress(ip), port);
            }
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e); // the lengths are right by construction
        }
        return null;
    }
}
