/// The version of Hounsfield, recorded in every output it writes.
public enum HounsfieldVersion {
    public static let current = "0.2.0"
}
