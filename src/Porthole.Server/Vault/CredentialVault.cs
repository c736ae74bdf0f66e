using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;

namespace Porthole.Server.Vault;

/// <summary>
/// Encrypts endpoint secrets with ASP.NET Core Data Protection (authenticated encryption; keys rotate every 90
/// days and old keys stay able to decrypt). The key ring lives in the data directory by default, or where
/// <c>Porthole:DataProtection</c> says (a shared directory and/or a certificate for several server nodes).
/// </summary>
public sealed class CredentialVault(IDataProtectionProvider provider)
{
    // The purpose string isolates these ciphertexts from every other use of Data Protection (e.g. cookies).
    private readonly IDataProtector _protector = provider.CreateProtector("Porthole.Vault.EndpointSecret.v1");

    public string Protect(EndpointSecret secret) =>
        _protector.Protect(JsonSerializer.Serialize(secret, EndpointSecretJsonContext.Default.EndpointSecret));

    public EndpointSecret Unprotect(string protectedSecret) =>
        JsonSerializer.Deserialize(_protector.Unprotect(protectedSecret), EndpointSecretJsonContext.Default.EndpointSecret)
        ?? throw new InvalidOperationException("empty vault entry");
}
