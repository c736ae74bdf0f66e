using System.Security.Claims;

namespace Porthole.Server.Identity;

/// <summary>Claim types set by <see cref="BearerTokenHandler"/> and how to read them.</summary>
public static class PortholeClaims
{
    public const string UserId = "porthole:user-id";
    public const string Username = "porthole:username";
    public const string TokenId = "porthole:token-id";
    public const string DeviceId = "porthole:device-id";
    public const string DeviceName = "porthole:device-name";

    public static string? GetUserId(this ClaimsPrincipal principal) => principal.FindFirstValue(UserId);

    public static string GetUsername(this ClaimsPrincipal principal) => principal.FindFirstValue(Username) ?? "unknown";

    public static string? GetTokenId(this ClaimsPrincipal principal) => principal.FindFirstValue(TokenId);

    public static string? GetDeviceId(this ClaimsPrincipal principal) => principal.FindFirstValue(DeviceId);

    /// <summary>The signed-in user's rights, set by <see cref="BearerTokenHandler"/> for user tokens.</summary>
    public static UserAccess GetUserAccess(this HttpContext context) =>
        context.Features.Get<UserAccess>() ?? throw new InvalidOperationException("no user is signed in on this request");

    /// <summary>Who did it, for the audit log: <c>user:admin</c> or <c>device:gw-01</c>.</summary>
    public static string GetActor(this ClaimsPrincipal principal) =>
        principal.FindFirstValue(DeviceName) is { } device ? "device:" + device : "user:" + principal.GetUsername();
}
