namespace Porthole.Protocol.Api;

/// <summary>
/// Body of <c>POST /api/v1/devices/{device}/endpoints</c>. Host and port are as seen from the gateway. For http and
/// https endpoints, <c>HostHeader</c> is the <c>Host</c> the device expects (default host:port) and
/// <c>RewriteAbsoluteLinks</c> asks the web proxy to rewrite absolute links to the device in its pages.
/// </summary>
public sealed record CreateEndpointRequest(
    string Name, string Host, int Port, string Protocol, string? Description = null, string? HostHeader = null, bool? RewriteAbsoluteLinks = null);

/// <summary>Body of <c>PATCH /api/v1/devices/{device}/endpoints/{endpoint}</c>; absent fields keep their value, an empty <c>HostHeader</c> clears it.</summary>
public sealed record UpdateEndpointRequest(
    string? Name = null, string? Host = null, int? Port = null, string? Protocol = null, string? Description = null, string? HostHeader = null, bool? RewriteAbsoluteLinks = null);

/// <summary>
/// An endpoint as the API shows it. <see cref="Credential"/> says only whether a credential is stored and of which
/// kind; the secret never leaves the server.
/// </summary>
public sealed record EndpointDto(
    string Id, string DeviceId, string DeviceName, string Name, string Host, int Port, string Protocol, string? Description,
    StoredCredentialDto? Credential = null, string? SshHostKey = null, string? HostHeader = null, bool RewriteAbsoluteLinks = false, string? TlsCertificate = null);

/// <summary>What is stored for an endpoint, without the secret.</summary>
public sealed record StoredCredentialDto(string Kind, string? Username, DateTimeOffset? UpdatedAt);

/// <summary>
/// Body of <c>PUT /api/v1/devices/{device}/endpoints/{endpoint}/credential</c>. Kinds: <c>vnc-password</c>
/// (password), <c>ssh-password</c> (username, password), <c>ssh-key</c> (username, privateKey in OpenSSH/PEM form,
/// optional passphrase), <c>http-password</c> (username, password).
/// </summary>
public sealed record SetCredentialRequest(string Kind, string? Username = null, string? Password = null, string? PrivateKey = null, string? Passphrase = null)
{
    /// <summary>Never print the secrets, even by accident.</summary>
    public override string ToString() => $"SetCredentialRequest {{ Kind = {Kind}, Username = {Username} }}";
}

/// <summary>The protocols an endpoint may declare.</summary>
public static class EndpointProtocols
{
    public static readonly IReadOnlyList<string> All = ["vnc", "ssh", "telnet", "http", "https", "tcp"];

    public static bool IsKnown(string? protocol) => protocol is not null && All.Contains(protocol);
}
