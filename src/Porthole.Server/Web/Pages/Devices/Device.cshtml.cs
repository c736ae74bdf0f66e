using Microsoft.AspNetCore.Mvc;
using Porthole.Protocol.Security;
using Porthole.Server.Data;
using Porthole.Server.Devices;
using Porthole.Server.Hosting;
using Porthole.Server.Identity;

namespace Porthole.Server.Web.Pages.Devices;

/// <summary>The device page's Info tab, with Edit, New enrolment token and Remove for users who may manage the device.</summary>
public sealed class DeviceModel(PortholeDbContext db, DeviceCatalog catalog, TimeProvider time, TlsCertificateHolder tls) : DevicePageModel(db, catalog, time)
{
    public string? AgentHostname { get; private set; }

    public DateTimeOffset? EnrolledAt { get; private set; }

    public bool CanManage { get; private set; }

    /// <summary>The address the agent should dial, for a re-issued enrolment command: the one this browser used.</summary>
    public string ServerUrl { get; private set; } = "";

    /// <summary>The pin for <c>--fingerprint</c>, when the server has its own certificate.</summary>
    public string? Fingerprint { get; private set; }

    public async Task<IActionResult> OnGetAsync(string device, CancellationToken cancellationToken)
    {
        if (await LoadAsync(device, cancellationToken) is { } other)
        {
            return other;
        }

        AgentHostname = Entity!.AgentHostname;
        EnrolledAt = Entity.EnrolledAt;
        CanManage = Access.Can(Permissions.DevicesManage, Entity);
        ServerUrl = $"{Request.Scheme}://{Request.Host.Value}";
        Fingerprint = tls.Certificate is { } certificate ? CertificateFingerprint.Of(certificate) : null;
        return Page();
    }
}
