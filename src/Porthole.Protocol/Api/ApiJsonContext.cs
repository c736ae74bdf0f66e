using System.Text.Json;
using System.Text.Json.Serialization;

namespace Porthole.Protocol.Api;

/// <summary>Source-generated serializer for the REST contracts, shared by server, agent and CLI.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(LoginRequest))]
[JsonSerializable(typeof(LoginResponse))]
[JsonSerializable(typeof(WhoAmIResponse))]
[JsonSerializable(typeof(ChangePasswordRequest))]
[JsonSerializable(typeof(CreateTokenRequest))]
[JsonSerializable(typeof(TokenDto))]
[JsonSerializable(typeof(List<TokenDto>))]
[JsonSerializable(typeof(CreateTokenResponse))]
[JsonSerializable(typeof(CreateDeviceRequest))]
[JsonSerializable(typeof(CreateDeviceResponse))]
[JsonSerializable(typeof(DeviceDto))]
[JsonSerializable(typeof(UpdateDeviceRequest))]
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
[JsonSerializable(typeof(GrantDto))]
[JsonSerializable(typeof(UserDto))]
[JsonSerializable(typeof(List<UserDto>))]
[JsonSerializable(typeof(CreateUserRequest))]
[JsonSerializable(typeof(CreateUserResponse))]
[JsonSerializable(typeof(UpdateUserRequest))]
[JsonSerializable(typeof(AddGrantRequest))]
[JsonSerializable(typeof(RoleDto))]
[JsonSerializable(typeof(List<RoleDto>))]
[JsonSerializable(typeof(CreateRoleRequest))]
[JsonSerializable(typeof(UpdateRoleRequest))]
[JsonSerializable(typeof(GroupDto))]
[JsonSerializable(typeof(List<GroupDto>))]
[JsonSerializable(typeof(CreateGroupRequest))]
[JsonSerializable(typeof(RemoteAccessRuleDto))]
[JsonSerializable(typeof(List<RemoteAccessRuleDto>))]
[JsonSerializable(typeof(StageRuleRequest))]
[JsonSerializable(typeof(CommitResponse))]
[JsonSerializable(typeof(AuditEntryDto))]
[JsonSerializable(typeof(AuditPage))]
[JsonSerializable(typeof(AuditVerification))]
public sealed partial class ApiJsonContext : JsonSerializerContext;

/// <summary>The parts of an RFC 9457 problem details body that clients read.</summary>
public sealed record ProblemBody(string? Type, string? Title, int? Status, string? Detail, string? Code);
