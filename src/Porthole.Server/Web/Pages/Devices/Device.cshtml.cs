using Microsoft.AspNetCore.Mvc;
using Porthole.Server.Data;
using Porthole.Server.Devices;

namespace Porthole.Server.Web.Pages.Devices;

/// <summary>The device page's Info tab.</summary>
public sealed class DeviceModel(PortholeDbContext db, DeviceCatalog catalog, TimeProvider time) : DevicePageModel(db, catalog, time)
{
    public string? AgentHostname { get; private set; }

    public DateTimeOffset? EnrolledAt { get; private set; }

    public async Task<IActionResult> OnGetAsync(string device, CancellationToken cancellationToken)
    {
        if (await LoadAsync(device, cancellationToken) is { } other)
        {
            return other;
        }

        AgentHostname = Entity!.AgentHostname;
        EnrolledAt = Entity.EnrolledAt;
        return Page();
    }
}
