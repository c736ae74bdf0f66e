using System.Net.Http.Json;
using Porthole.Protocol.Api;

namespace Porthole.Cli.Api;

/// <summary>Device groups and the staged remote-access rules.</summary>
public sealed partial class PortholeApiClient
{
    /// <summary><c>GET /api/v1/groups</c>: the groups the caller may see, by path.</summary>
    public Task<List<GroupDto>> ListGroupsAsync(CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, "api/v1/groups", null, ApiJsonContext.Default.ListGroupDto, cancellationToken);

    /// <summary><c>POST /api/v1/groups</c>: creates the group and any missing parents.</summary>
    public Task<GroupDto> CreateGroupAsync(CreateGroupRequest request, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, "api/v1/groups", JsonContent.Create(request, ApiJsonContext.Default.CreateGroupRequest), ApiJsonContext.Default.GroupDto, cancellationToken);

    /// <summary><c>DELETE /api/v1/groups/{**path}</c>: the slashes of the path stay path separators.</summary>
    public Task RemoveGroupAsync(string path, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Delete, "api/v1/groups/" + string.Join('/', path.Split('/').Select(Uri.EscapeDataString)), null, cancellationToken);

    /// <summary><c>GET /api/v1/remote-access/rules</c>: committed and staged rules.</summary>
    public Task<List<RemoteAccessRuleDto>> ListRemoteAccessRulesAsync(CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, "api/v1/remote-access/rules", null, ApiJsonContext.Default.ListRemoteAccessRuleDto, cancellationToken);

    /// <summary><c>PUT /api/v1/remote-access/rules</c>: stages a rule (or its removal, with <c>enabled: null</c>).</summary>
    public Task<RemoteAccessRuleDto> StageRemoteAccessRuleAsync(StageRuleRequest request, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Put, "api/v1/remote-access/rules", JsonContent.Create(request, ApiJsonContext.Default.StageRuleRequest), ApiJsonContext.Default.RemoteAccessRuleDto, cancellationToken);

    /// <summary><c>POST /api/v1/remote-access/commit</c>.</summary>
    public Task<CommitResponse> CommitRemoteAccessAsync(CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, "api/v1/remote-access/commit", null, ApiJsonContext.Default.CommitResponse, cancellationToken);

    /// <summary><c>POST /api/v1/remote-access/discard</c>.</summary>
    public Task<CommitResponse> DiscardRemoteAccessAsync(CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, "api/v1/remote-access/discard", null, ApiJsonContext.Default.CommitResponse, cancellationToken);
}
