using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Porthole.Protocol.Security;
using Porthole.Server.Hosting;
using Porthole.Server.Identity;

namespace Porthole.Server.Web.Pages.Devices;

/// <summary>Registers a device through the API and shows its one-time enrolment token with the agent command.</summary>
public sealed class RegisterModel(TlsCertificateHolder tls) : PageModel
{
    /// <summary>The address the agent should dial: the one this browser used.</summary>
    public string ServerUrl { get; private set; } = "";

    /// <summary>The pin for <c>--fingerprint</c>, when the server has its own certificate.</summary>
    public string? Fingerprint { get; private set; }

    public IActionResult OnGet()
    {
        if (!HttpContext.GetUserAccess().Has(Permissions.DevicesManage))
        {
            return ConsoleRedirects.AccessDenied(Permissions.DevicesManage);
        }

        ServerUrl = $"{Request.Scheme}://{Request.Host.Value}";
        Fingerprint = tls.Certificate is { } certificate ? CertificateFingerprint.Of(certificate) : null;
        return Page();
    }
}
