using System.Text.Json;
using System.Text.Json.Serialization;

namespace Porthole.Protocol.Api;

/// <summary>Source-generated serializer for the REST contracts, shared by server, agent and CLI.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(LoginRequest))]
[JsonSerializable(typeof(LoginResponse))]
[JsonSerializable(typeof(WhoAmIResponse))]
[JsonSerializable(typeof(CreateDeviceRequest))]
[JsonSerializable(typeof(CreateDeviceResponse))]
[JsonSerializable(typeof(DeviceDto))]
[JsonSerializable(typeof(List<DeviceDto>))]
[JsonSerializable(typeof(EnrolRequest))]
[JsonSerializable(typeof(EnrolResponse))]
[JsonSerializable(typeof(CreateEndpointRequest))]
[JsonSerializable(typeof(UpdateEndpointRequest))]
[JsonSerializable(typeof(EndpointDto))]
[JsonSerializable(typeof(List<EndpointDto>))]
[JsonSerializable(typeof(CreateSessionRequest))]
[JsonSerializable(typeof(CreateSessionResponse))]
[JsonSerializable(typeof(ProblemBody))]
public sealed partial class ApiJsonContext : JsonSerializerContext;

/// <summary>The parts of an RFC 9457 problem details body that clients read.</summary>
public sealed record ProblemBody(string? Type, string? Title, int? Status, string? Detail, string? Code);
