using Microsoft.AspNetCore.Mvc;
using Porthole.Protocol.Api;
using Porthole.Server.Data;
using Porthole.Server.Devices;
using Porthole.Server.Endpoints;
using Porthole.Server.Identity;

namespace Porthole.Server.Web.Pages.Devices;

/// <summary>The device page's Remote access tab: the endpoints reachable through the gateway.</summary>
public sealed class RemoteAccessModel(PortholeDbContext db, DeviceCatalog catalog, TimeProvider time) : DevicePageModel(db, catalog, time)
{
    public IReadOnlyList<EndpointRow> Endpoints { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(string device, CancellationToken cancellationToken)
    {
        if (await LoadAsync(device, cancellationToken) is { } other)
        {
            return other;
        }

        if (!CanReadRemoteAccess)
        {
            return ConsoleRedirects.AccessDenied(Permissions.RemoteAccessRead, "device " + Device.Name);
        }

        Endpoints = [.. Entity!.Endpoints.OrderBy(e => e.Name, StringComparer.Ordinal).Select(e =>
        {
            var viewer = ViewerKinds.ViewerOf(e.Protocol);
            var canOpen = viewer is not null && Access.Can(Permissions.RemoteAccessConnect, Entity, viewer.Action);
            return new EndpointRow(EndpointsApi.ToDto(e, Entity), canOpen ? viewer : null);
        })];
        return Page();
    }

    /// <summary>An endpoint and the viewer the user may open for it, if any.</summary>
    public sealed record EndpointRow(EndpointDto Endpoint, ViewerKind? Viewer);
}
