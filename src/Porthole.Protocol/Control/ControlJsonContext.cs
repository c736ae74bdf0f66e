using System.Text.Json;
using System.Text.Json.Serialization;

namespace Porthole.Protocol.Control;

/// <summary>Source-generated serializer for control messages, so the agent can be trimmed and AOT-compiled.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ControlMessage))]
public sealed partial class ControlJsonContext : JsonSerializerContext;
