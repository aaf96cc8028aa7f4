package dev.netnstoolkit.spring;

import org.springframework.boot.context.properties.ConfigurationProperties;

import java.util.ArrayList;
import java.util.List;

/**
 * Configuration of the Netns Toolkit in a Spring Boot application, under {@code ntk.*}.
 *
 * <pre>
 * ntk.server.namespaces=blue,red      # the app's WebFlux handler is also served inside these
 * ntk.server.port=8080                # default: server.port
 * ntk.server.host=true                # false: no listener on the host, only in the namespaces
 * ntk.client.namespace=blue           # the auto-configured WebClient.Builder sends from inside blue
 * ntk.namespaces.create-missing=false # create configured namespaces that do not exist
 * ntk.namespaces.remove-on-stop=false # delete, on stop, the namespaces this app created (never others)
 * </pre>
 */
@ConfigurationProperties("ntk")
public class NetnsProperties {

    /** Event loop threads shared by every namespace (default: cores, at least 2). */
    private int loopThreads = Math.max(2, Runtime.getRuntime().availableProcessors());

    /** Dedicated workers for tasks run in namespaces. */
    private int dedicatedThreads = 2;

    /** Connections of each namespace's HTTP and TCP pool. */
    private int maxConnectionsPerNamespace = 500;

    /** Acquires that may wait for a pooled connection in each namespace; past it they fail at once. */
    private int pendingAcquiresPerNamespace = 1000;

    /** Prefix of the toolkit's thread names and the value of its {@code scheduler} meter tag. */
    private String namePrefix = "ntk";

    private final Server server = new Server();
    private final Client client = new Client();
    private final Namespaces namespaces = new Namespaces();

    /** Where the application's WebFlux handler is served. */
    public static class Server {
        /** Namespaces (names under /run/netns) the WebFlux handler is also served in. */
        private List<String> namespaces = new ArrayList<>();

        /** Port of the listeners in the namespaces (default: server.port, else 8080). */
        private Integer port;

        /** Whether the application also listens on the host (Boot's own server). */
        private boolean host = true;

        public List<String> getNamespaces() {
            return namespaces;
        }

        public void setNamespaces(List<String> namespaces) {
            this.namespaces = namespaces;
        }

        public Integer getPort() {
            return port;
        }

        public void setPort(Integer port) {
            this.port = port;
        }

        public boolean isHost() {
            return host;
        }

        public void setHost(boolean host) {
            this.host = host;
        }
    }

    /** Where outgoing requests go from. */
    public static class Client {
        /** The namespace the auto-configured WebClient.Builder sends from (default: the host). */
        private String namespace;

        public String getNamespace() {
            return namespace;
        }

        public void setNamespace(String namespace) {
            this.namespace = namespace;
        }
    }

    /** What the application may do to the namespaces it names. */
    public static class Namespaces {
        /** Create configured namespaces that do not exist (they need CAP_SYS_ADMIN). */
        private boolean createMissing;

        /** Delete, when the application stops, the namespaces it created; never one it did not create. */
        private boolean removeOnStop;

        public boolean isCreateMissing() {
            return createMissing;
        }

        public void setCreateMissing(boolean createMissing) {
            this.createMissing = createMissing;
        }

        public boolean isRemoveOnStop() {
            return removeOnStop;
        }

        public void setRemoveOnStop(boolean removeOnStop) {
            this.removeOnStop = removeOnStop;
        }
    }

    public int getLoopThreads() {
        return loopThreads;
    }

    public void setLoopThreads(int loopThreads) {
        this.loopThreads = loopThreads;
    }

    public int getDedicatedThreads() {
        return dedicatedThreads;
    }

    public void setDedicatedThreads(int dedicatedThreads) {
        this.dedicatedThreads = dedicatedThreads;
    }

    public int getMaxConnectionsPerNamespace() {
        return maxConnectionsPerNamespace;
    }

    public void setMaxConnectionsPerNamespace(int maxConnectionsPerNamespace) {
        this.maxConnectionsPerNamespace = maxConnectionsPerNamespace;
    }

    public int getPendingAcquiresPerNamespace() {
        return pendingAcquiresPerNamespace;
    }

    public void setPendingAcquiresPerNamespace(int pendingAcquiresPerNamespace) {
        this.pendingAcquiresPerNamespace = pendingAcquiresPerNamespace;
    }

    public String getNamePrefix() {
        return namePrefix;
    }

    public void setNamePrefix(String namePrefix) {
        this.namePrefix = namePrefix;
    }

    public Server getServer() {
        return server;
    }

    public Client getClient() {
        return client;
    }

    public Namespaces getNamespaces() {
        return namespaces;
    }
}
