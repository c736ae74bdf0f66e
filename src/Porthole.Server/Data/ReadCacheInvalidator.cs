using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Porthole.Server.Data;

/// <summary>
/// Invalidates the <see cref="ReadCache"/> after every committed write except an audit append: a
/// <c>SaveChanges</c> with any other change, every bulk <c>ExecuteUpdate</c>/<c>ExecuteDelete</c> or raw statement,
/// and every explicit transaction's commit. It does not try to tell which writes matter to a cached answer: writes
/// are rare next to reads, and a rule that lists entity types would silently go stale when one is added. Audit
/// appends are exempt because every session makes two.
/// </summary>
public sealed class ReadCacheInvalidator(ReadCache cache) : SaveChangesInterceptor, IDbCommandInterceptor, IDbTransactionInterceptor
{
    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        Note(eventData.Context);
        return result;
    }

    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        Note(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public override int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        Settle(eventData.Context);
        return result;
    }

    public override ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        Settle(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public override void SaveChangesFailed(DbContextErrorEventData eventData) => Settle(eventData.Context);

    public override Task SaveChangesFailedAsync(DbContextErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        // A failed save may still have committed part of a batch on some providers; forgetting costs only re-reads.
        Settle(eventData.Context);
        return Task.CompletedTask;
    }

    public override void SaveChangesCanceled(DbContextEventData eventData) => Settle(eventData.Context);

    public override Task SaveChangesCanceledAsync(DbContextEventData eventData, CancellationToken cancellationToken = default)
    {
        Settle(eventData.Context);
        return Task.CompletedTask;
    }

    public int NonQueryExecuted(DbCommand command, CommandExecutedEventData eventData, int result)
    {
        InvalidateUnlessAuditAppend(eventData.Context);
        return result;
    }

    public ValueTask<int> NonQueryExecutedAsync(DbCommand command, CommandExecutedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        InvalidateUnlessAuditAppend(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => cache.Invalidate();

    public Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        cache.Invalidate();
        return Task.CompletedTask;
    }

    /// <summary>A statement: anything may have changed, unless it was the audit log's own append.</summary>
    private void InvalidateUnlessAuditAppend(DbContext? context)
    {
        if (context is not PortholeDbContext { AppendingAudit: true })
        {
            cache.Invalidate();
        }
    }

    /// <summary>Before a save: remembers on the context whether it writes anything but audit records.</summary>
    private static void Note(DbContext? context)
    {
        if (context is PortholeDbContext db)
        {
            db.SavesBeyondAudit = db.ChangeTracker.Entries().Any(e => e.State is EntityState.Added or EntityState.Modified or EntityState.Deleted && e.Entity is not AuditEntry);
        }
    }

    /// <summary>After a save (committed or failed): invalidates if it wrote anything but audit records.</summary>
    private void Settle(DbContext? context)
    {
        if (context is not PortholeDbContext db)
        {
            cache.Invalidate();
            return;
        }

        if (db.SavesBeyondAudit)
        {
            db.SavesBeyondAudit = false;
            cache.Invalidate();
        }
    }
}
