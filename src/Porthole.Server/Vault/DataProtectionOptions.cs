namespace Porthole.Server.Vault;

/// <summary>Where the Data Protection key ring lives. Bound from <c>Porthole:DataProtection</c>.</summary>
public sealed class VaultKeyRingOptions
{
    public const string SectionName = "Porthole:DataProtection";

    /// <summary>Directory of the key ring. Default: <c>keys</c> in the data directory. Share it between server nodes.</summary>
    public string? KeysDirectory { get; set; }

    /// <summary>A PFX certificate that encrypts the keys at rest (recommended with a shared directory). Default: none.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>Password of <see cref="CertificatePath"/>, if it has one.</summary>
    public string? CertificatePassword { get; set; }
}
