using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Porthole.Server.Audit;
using Porthole.Server.Data;
using Porthole.Server.Identity;

namespace Porthole.Server.Web.Pages.Admin;

/// <summary>The audit log, newest first, with the API's filters; export links go to <c>/api/v1/audit/export</c>.</summary>
public sealed class AuditModel(PortholeDbContext db) : PageModel
{
    public const int PageSize = 100;

    [BindProperty(SupportsGet = true, Name = "user")]
    public string? UserFilter { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Device { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Action { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Outcome { get; set; }

    [BindProperty(SupportsGet = true)]
    public DateTimeOffset? From { get; set; }

    [BindProperty(SupportsGet = true)]
    public DateTimeOffset? To { get; set; }

    [BindProperty(SupportsGet = true, Name = "page")]
    public int PageNumber { get; set; } = 1;

    public IReadOnlyList<AuditEntry> Entries { get; private set; } = [];

    public int Total { get; private set; }

    /// <summary>The current filters as a query string, for the export links and paging.</summary>
    public string FilterQuery { get; private set; } = "";

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        if (!HttpContext.GetUserAccess().Has(Permissions.AuditRead))
        {
            return ConsoleRedirects.AccessDenied(Permissions.AuditRead);
        }

        var filter = new AuditFilter(From, To, Blank(UserFilter), Blank(Device), Blank(Action), Blank(Outcome));
        // As in the API: SQLite cannot compare DateTimeOffset in SQL, so the log is filtered in memory.
        var matching = (await db.AuditEntries.AsNoTracking().ToListAsync(cancellationToken)).Where(filter.Matches).ToList();
        Total = matching.Count;
        PageNumber = Math.Max(1, PageNumber);
        Entries = [.. matching.OrderByDescending(e => e.Sequence).Skip((PageNumber - 1) * PageSize).Take(PageSize)];
        FilterQuery = QueryString.Create(new Dictionary<string, string?>
        {
            ["user"] = filter.User,
            ["device"] = filter.Device,
            ["action"] = filter.Action,
            ["outcome"] = filter.Outcome,
            ["from"] = From?.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            ["to"] = To?.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
        }.Where(p => p.Value is not null)).Value?.TrimStart('?') ?? "";
        return Page();
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
