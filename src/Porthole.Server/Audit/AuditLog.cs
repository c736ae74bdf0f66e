using Porthole.Server.Data;

namespace Porthole.Server.Audit;

/// <summary>
/// Appends to the audit log. Callers pass what happened, never secrets: details are short summaries.
/// </summary>
public sealed class AuditLog(PortholeDbContext db, TimeProvider time)
{
    /// <summary>Adds an entry to the current unit of work; it is saved with the caller's changes.</summary>
    public void Add(string actor, string action, string? target, string outcome = AuditOutcomes.Success, string? detail = null, string? clientAddress = null) =>
        db.AuditEntries.Add(new AuditEntry
        {
            At = time.GetUtcNow(),
            Actor = actor,
            Action = action,
            Target = target,
            Outcome = outcome,
            Detail = detail,
            ClientAddress = clientAddress,
        });

    /// <summary>Adds an entry and saves it at once (for events with no other changes).</summary>
    public async Task WriteAsync(string actor, string action, string? target, string outcome = AuditOutcomes.Success, string? detail = null, string? clientAddress = null, CancellationToken cancellationToken = default)
    {
        Add(actor, action, target, outcome, detail, clientAddress);
        await db.SaveChangesAsync(cancellationToken);
    }
}

/// <summary>Outcome values of audit entries.</summary>
public static class AuditOutcomes
{
    public const string Success = "success";
    public const string Failure = "failure";
    public const string Denied = "denied";
}
