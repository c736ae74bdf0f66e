using Microsoft.AspNetCore.Http.HttpResults;
using Porthole.Protocol.Api;
using Porthole.Server.Audit;
using Porthole.Server.Data;
using Porthole.Server.Devices;
using Porthole.Server.Http;

namespace Porthole.Server.Identity;

/// <summary>The resource check every device route makes after its route policy passed.</summary>
public static class DeviceAccess
{
    /// <summary>
    /// <c>null</c> when the caller holds <paramref name="permission"/> on <paramref name="device"/>; a 404 when the
    /// caller may not even see the device; otherwise a 403 naming the missing permission, which is audited.
    /// </summary>
    public static async Task<ProblemHttpResult?> CheckAsync(HttpContext context, AuditLog audit, Device device, string permission, string? action = null)
    {
        var access = context.GetUserAccess();
        if (access.Can(permission, device, action))
        {
            return null;
        }

        if (!access.Can(Permissions.DevicesRead, device))
        {
            return DevicesApi.DeviceNotFound(device.Name);
        }

        var what = action is null ? permission : $"{permission} ({action})";
        var detail = $"Access denied: {what} on {device.Name}";
        await audit.WriteAsync(context.User.GetActor(), "access.denied", "device:" + device.Name, AuditOutcomes.Denied, detail, context.Connection.RemoteIpAddress?.ToString());
        return ApiProblem.Create(StatusCodes.Status403Forbidden, ProblemCodes.Forbidden, "Access denied", detail);
    }
}
