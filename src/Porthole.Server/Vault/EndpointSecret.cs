using System.Text.Json.Serialization;

namespace Porthole.Server.Vault;

/// <summary>The secret parts of a credential, as they exist only in server memory while in use.</summary>
public sealed record EndpointSecret(string? Password, string? PrivateKey, string? Passphrase)
{
    /// <summary>Never print the secret, even by accident (records print their members by default).</summary>
    public override string ToString() => "EndpointSecret { *** }";
}

/// <summary>Serializer for the vault's plaintext before encryption.</summary>
[JsonSerializable(typeof(EndpointSecret))]
internal sealed partial class EndpointSecretJsonContext : JsonSerializerContext;
