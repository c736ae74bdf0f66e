using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Porthole.Protocol.Api;
using Porthole.Server.Data;
using Porthole.Server.Devices;
using Porthole.Server.Identity;

namespace Porthole.Server.Web.Pages.Devices;

/// <summary>All devices the user may see, searchable by name and filterable by group, tag and online state.</summary>
public sealed class IndexModel(PortholeDbContext db, DeviceCatalog catalog, TimeProvider time) : PageModel
{
    [BindProperty(SupportsGet = true, Name = "q")]
    public string? Search { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Group { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Tag { get; set; }

    /// <summary><c>online</c>, <c>offline</c> or empty for both.</summary>
    [BindProperty(SupportsGet = true)]
    public string? State { get; set; }

    public IReadOnlyList<DeviceDto> Devices { get; private set; } = [];

    public int VisibleCount { get; private set; }

    public IReadOnlyList<string> Groups { get; private set; } = [];

    public IReadOnlyList<string> Tags { get; private set; } = [];

    public bool CanRegister { get; private set; }

    public DateTimeOffset Now { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        var access = HttpContext.GetUserAccess();
        if (!access.Has(Permissions.DevicesRead))
        {
            return ConsoleRedirects.AccessDenied(Permissions.DevicesRead);
        }

        Now = time.GetUtcNow();
        CanRegister = access.Has(Permissions.DevicesManage);
        var devices = await db.Devices.AsNoTracking().WithDetails().OrderBy(d => d.Name).ToListAsync(cancellationToken);
        var visible = new List<DeviceDto>();
        foreach (var device in devices.Where(d => access.Can(Permissions.DevicesRead, d)))
        {
            visible.Add(await catalog.ToDtoAsync(device, cancellationToken));
        }

        VisibleCount = visible.Count;
        Groups = [.. visible.Select(d => d.Group).OfType<string>().Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        Tags = [.. visible.SelectMany(d => d.Tags).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        Devices = [.. visible.Where(Matches)];
        return Page();
    }

    private bool Matches(DeviceDto device) =>
        (string.IsNullOrWhiteSpace(Search) || device.Name.Contains(Search.Trim(), StringComparison.OrdinalIgnoreCase))
        && (string.IsNullOrEmpty(Group) || device.Group == Group || (device.Group?.StartsWith(Group + "/", StringComparison.Ordinal) ?? false))
        && (string.IsNullOrEmpty(Tag) || device.Tags.Contains(Tag))
        && State switch
        {
            "online" => device.Online,
            "offline" => !device.Online,
            _ => true,
        };
}
