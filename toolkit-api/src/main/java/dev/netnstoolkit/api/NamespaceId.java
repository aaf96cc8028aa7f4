package dev.netnstoolkit.api;

/**
 * The identity of a network namespace: the device and inode of its nsfs file, as {@code stat(2)}
 * reports them. Two handles refer to the same namespace exactly when their ids are equal.
 *
 * @param dev {@code st_dev} of the nsfs inode
 * @param ino {@code st_ino} of the nsfs inode; the number in {@code net:[ino]}
 */
public record NamespaceId(long dev, long ino) {

    @Override
    public String toString() {
        return "net:[" + ino + "]@" + dev;
    }
}
