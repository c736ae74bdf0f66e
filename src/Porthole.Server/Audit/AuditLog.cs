using Porthole.Server.Data;

namespace Porthole.Server.Audit;

/// <summary>
/// Appends to the audit log. Callers pass what happened, never secrets: details are short summaries.
/// </summary>
public sealed class AuditLog(PortholeDbContext db, TimeProvider time)
{
    /// <summary>Adds an entry to the current unit of work; it is saved with the caller's changes.</summary>
    public void Add(string actor, string action, string? target, string outcome = AuditOutcomes.Success, string? detail = null, string? clientAddress = null) =>
        db.AuditEntries.Add(Entry(actor, action, target, outcome, detail, clientAddress));

    /// <summary>
    /// Saves an entry at once (for events with no other changes). With nothing else pending it takes one statement
    /// (<see cref="PortholeDbContext.AppendAuditAsync"/>); else it is saved together with what is pending, as before.
    /// </summary>
    public async Task WriteAsync(string actor, string action, string? target, string outcome = AuditOutcomes.Success, string? detail = null, string? clientAddress = null, CancellationToken cancellationToken = default)
    {
        var entry = Entry(actor, action, target, outcome, detail, clientAddress);
        if (db.ChangeTracker.HasChanges())
        {
            db.AuditEntries.Add(entry);
            await db.SaveChangesAsync(cancellationToken);
        }
        else
        {
            await db.AppendAuditAsync(entry, cancellationToken);
        }
    }

    private AuditEntry Entry(string actor, string action, string? target, string outcome, string? detail, string? clientAddress) => new()
    {
        At = time.GetUtcNow(),
        Actor = actor,
        Action = action,
        Target = target,
        Outcome = outcome,
        Detail = detail,
        ClientAddress = clientAddress,
    };
}

/// <summary>Outcome values of audit entries.</summary>
public static class AuditOutcomes
{
    public const string Success = "success";
    public const string Failure = "failure";
    public const string Denied = "denied";
}
