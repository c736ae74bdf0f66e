using System.Text.Json.Serialization;

namespace Porthole.Protocol.Control;

/// <summary>
/// A message on the agent control channel: one JSON object per WebSocket text message,
/// discriminated by its <c>type</c> property.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type", UnknownDerivedTypeHandling = JsonUnknownDerivedTypeHandling.FailSerialization)]
[JsonDerivedType(typeof(HelloMessage), "hello")]
[JsonDerivedType(typeof(WelcomeMessage), "welcome")]
[JsonDerivedType(typeof(RejectMessage), "reject")]
[JsonDerivedType(typeof(AgentStatusMessage), "status")]
[JsonDerivedType(typeof(OpenSessionMessage), "open")]
[JsonDerivedType(typeof(OpenFailedMessage), "open-failed")]
public abstract record ControlMessage;

/// <summary>
/// First message of the agent: the protocol versions it speaks and what it is. <see cref="Streams"/>: the agent can
/// carry sessions on its streams connection (docs/design/agent-streams.md); older agents leave it out.
/// </summary>
public sealed record HelloMessage(int MinVersion, int MaxVersion, string AgentVersion, bool RemoteAccessEnabled, string? Hostname,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] bool Streams = false) : ControlMessage;

/// <summary>
/// The server's answer to <see cref="HelloMessage"/> when a common version exists. <see cref="Streams"/>: the server
/// takes a streams connection (<c>GET /api/v1/agent/streams</c>), which the agent should open and keep.
/// </summary>
public sealed record WelcomeMessage(int Version, string DeviceId, string DeviceName,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] bool Streams = false) : ControlMessage;

/// <summary>The server refuses the agent (for example <c>incompatible-version</c>) and closes the channel.</summary>
public sealed record RejectMessage(string Code, string Message) : ControlMessage;

/// <summary>The agent reports a change of its local state.</summary>
public sealed record AgentStatusMessage(bool RemoteAccessEnabled) : ControlMessage;

/// <summary>
/// The server asks the agent to dial <see cref="Host"/>:<see cref="Port"/> and to open a data WebSocket
/// for the session, presenting <see cref="SessionKey"/>; or, when <see cref="StreamId"/> is set, to carry the session
/// as that stream of its streams connection (the key is then empty: the stream is on the device's own connection).
/// The optional fields of this version are left out when unset, so older peers see exactly the messages they know.
/// </summary>
public sealed record OpenSessionMessage(string SessionId, string SessionKey, string Host, int Port, int ConnectTimeoutMs,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] uint? StreamId = null) : ControlMessage;

/// <summary>The agent could not open the session; <see cref="Reason"/> is machine-readable, <see cref="Message"/> is for people.</summary>
public sealed record OpenFailedMessage(string SessionId, OpenFailureReason Reason, string Message) : ControlMessage;

/// <summary>Why an agent could not open a session.</summary>
[JsonConverter(typeof(OpenFailureReasonConverter))]
public enum OpenFailureReason
{
    /// <summary>The target actively refused the TCP connection.</summary>
    Refused,

    /// <summary>The target's address could not be reached or resolved.</summary>
    Unreachable,

    /// <summary>The TCP connect did not finish within the timeout.</summary>
    Timeout,

    /// <summary>Remote access is disabled on the agent (<c>--disable-remote-access</c>).</summary>
    Disabled,

    /// <summary>The agent reached the target but could not open the data WebSocket to the server.</summary>
    ServerUnreachable,

    /// <summary>The agent's own target policy forbids this address or port (e.g. cloud metadata, link-local).</summary>
    Denied,
}

/// <summary>Writes <see cref="OpenFailureReason"/> in camelCase (<c>refused</c>, <c>serverUnreachable</c>), as the design note lists them.</summary>
public sealed class OpenFailureReasonConverter() : JsonStringEnumConverter<OpenFailureReason>(System.Text.Json.JsonNamingPolicy.CamelCase);
