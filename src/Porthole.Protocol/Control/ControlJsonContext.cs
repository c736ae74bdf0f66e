using System.Text.Json;
using System.Text.Json.Serialization;

namespace Porthole.Protocol.Control;

/// <summary>Source-generated serializer for control messages, so the agent can be trimmed and AOT-compiled.</summary>
// Missing or null required fields are errors, and "type" may come anywhere in the object (JSON objects are
// unordered; a non-.NET agent must not have to put it first).
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true,
    AllowOutOfOrderMetadataProperties = true)]
[JsonSerializable(typeof(ControlMessage))]
public sealed partial class ControlJsonContext : JsonSerializerContext;
