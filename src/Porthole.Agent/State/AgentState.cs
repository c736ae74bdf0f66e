using System.Text.Json.Serialization;

namespace Porthole.Agent.State;

/// <summary>What enrolment leaves in the state directory: where the server is, how to trust it, and who we are.</summary>
public sealed record AgentState(
    string Server,
    string DeviceId,
    string DeviceName,
    string Credential,
    string? Fingerprint,
    string? CaCertificatePath,
    bool Insecure,
    bool RemoteAccessDisabled);

/// <summary>Source-generated serializer for the state file.</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(AgentState))]
public sealed partial class AgentStateJsonContext : JsonSerializerContext;
