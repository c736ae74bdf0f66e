using Microsoft.EntityFrameworkCore;
using Porthole.Server.Audit;

namespace Porthole.Server.Data;

/// <summary>The server's store. SQLite in the data directory by default.</summary>
public sealed class PortholeDbContext(DbContextOptions<PortholeDbContext> options) : DbContext(options)
{
    public DbSet<User> Users => Set<User>();
    public DbSet<ApiToken> ApiTokens => Set<ApiToken>();
    public DbSet<DeviceGroup> DeviceGroups => Set<DeviceGroup>();
    public DbSet<Device> Devices => Set<Device>();
    public DbSet<DeviceTag> DeviceTags => Set<DeviceTag>();
    public DbSet<DeviceEndpoint> Endpoints => Set<DeviceEndpoint>();
    public DbSet<AuditEntry> AuditEntries => Set<AuditEntry>();
    public DbSet<Role> Roles => Set<Role>();
    public DbSet<RoleGrant> RoleGrants => Set<RoleGrant>();
    public DbSet<RemoteAccessRule> RemoteAccessRules => Set<RemoteAccessRule>();
    public DbSet<WebRequestRecord> WebRequests => Set<WebRequestRecord>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<User>(user =>
        {
            user.HasIndex(u => u.Username).IsUnique();
            user.HasMany(u => u.Grants).WithOne().HasForeignKey(g => g.UserId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<Role>(role =>
        {
            role.HasIndex(r => r.Name).IsUnique();
        });

        modelBuilder.Entity<RoleGrant>(grant =>
        {
            grant.HasOne(g => g.Role).WithMany().HasForeignKey(g => g.RoleId).OnDelete(DeleteBehavior.Restrict);
        });

        modelBuilder.Entity<RemoteAccessRule>(rule =>
        {
            rule.HasIndex(r => new { r.Scope, r.Target, r.Staged }).IsUnique();
        });

        modelBuilder.Entity<ApiToken>(token =>
        {
            token.HasIndex(t => t.SecretHash).IsUnique();
            token.HasOne(t => t.User).WithMany().HasForeignKey(t => t.UserId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<DeviceGroup>(group =>
        {
            group.HasIndex(g => new { g.ParentId, g.Name }).IsUnique();
            group.HasOne<DeviceGroup>().WithMany().HasForeignKey(g => g.ParentId).OnDelete(DeleteBehavior.Restrict);
        });

        modelBuilder.Entity<Device>(device =>
        {
            device.HasIndex(d => d.Name).IsUnique();
            device.HasIndex(d => d.EnrolmentTokenHash).IsUnique();
            device.HasIndex(d => d.CredentialHash).IsUnique();
            device.HasOne(d => d.Group).WithMany().HasForeignKey(d => d.GroupId).OnDelete(DeleteBehavior.SetNull);
            device.HasMany(d => d.Tags).WithOne().HasForeignKey(t => t.DeviceId).OnDelete(DeleteBehavior.Cascade);
            device.HasMany(d => d.Endpoints).WithOne(e => e.Device).HasForeignKey(e => e.DeviceId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<DeviceTag>(tag =>
        {
            tag.HasKey(t => new { t.DeviceId, t.Tag });
            tag.HasIndex(t => t.Tag);
        });

        modelBuilder.Entity<DeviceEndpoint>(endpoint =>
        {
            endpoint.HasIndex(e => new { e.DeviceId, e.Name }).IsUnique();
        });

        modelBuilder.Entity<WebRequestRecord>(request =>
        {
            request.ToTable("WebRequests");
            request.HasIndex(r => new { r.SessionId, r.Id });
        });

        modelBuilder.Entity<AuditEntry>(entry =>
        {
            entry.HasIndex(e => e.At);
            entry.HasIndex(e => e.Sequence).IsUnique();
        });
    }

    /// <summary>Set while a save that writes more than audit records runs (<see cref="ReadCacheInvalidator"/>).</summary>
    internal bool SavesBeyondAudit { get; set; }

    /// <summary>Set while <see cref="AppendAuditAsync"/> runs its statement (<see cref="ReadCacheInvalidator"/>).</summary>
    internal bool AppendingAudit { get; private set; }

    /// <summary>Saves, chaining any new audit records onto the log (see <see cref="AuditChain"/>).</summary>
    public override async Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        var appended = ChangeTracker.Entries<AuditEntry>().Where(e => e.State == EntityState.Added).Select(e => e.Entity).ToList();
        return appended.Count == 0
            ? await base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken)
            : await ChainAsync(appended, () => base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken), cancellationToken);
    }

    /// <summary>
    /// Appends one audit record with a single statement, past the change tracker and the update pipeline: a session's
    /// opening waits for its record, and through <c>SaveChanges</c> one append cost ≈0.5 ms of which the INSERT
    /// itself was 0.1 (docs/performance.md). For a context with nothing else to save (<see cref="AuditLog"/> checks).
    /// The values go through EF's own type mappings, so the row reads back exactly as a saved one, hash included.
    /// </summary>
    internal Task AppendAuditAsync(AuditEntry entry, CancellationToken cancellationToken) =>
        ChainAsync([entry], async () =>
        {
            AppendingAudit = true;
            try
            {
                return await Database.ExecuteSqlAsync(
                    $"""
                    INSERT INTO "AuditEntries" ("Sequence", "At", "Actor", "Action", "Target", "Outcome", "Detail", "ClientAddress", "PreviousHash", "Hash")
                    VALUES ({entry.Sequence}, {entry.At}, {entry.Actor}, {entry.Action}, {entry.Target}, {entry.Outcome}, {entry.Detail}, {entry.ClientAddress}, {entry.PreviousHash}, {entry.Hash})
                    """, cancellationToken);
            }
            finally
            {
                AppendingAudit = false;
            }
        }, cancellationToken);

    /// <summary>
    /// Links <paramref name="appended"/> onto the chain's head and runs <paramref name="write"/>, one appender at a
    /// time; the head moves on only once the write succeeded.
    /// </summary>
    private async Task<int> ChainAsync(IReadOnlyList<AuditEntry> appended, Func<Task<int>> write, CancellationToken cancellationToken)
    {
        await AuditChain.AppendLock.WaitAsync(cancellationToken);
        var database = Database.GetConnectionString() ?? "";
        try
        {
            var (sequence, previous) = AuditChain.Heads.TryGetValue(database, out var head) ? head : await ReadChainHeadAsync(cancellationToken);
            foreach (var entry in appended)
            {
                entry.Sequence = ++sequence;
                entry.PreviousHash = previous;
                entry.Hash = AuditChain.ComputeHash(entry);
                previous = entry.Hash;
            }

            var written = await write();
            AuditChain.Heads[database] = (sequence, previous);
            return written;
        }
        catch
        {
            // Whatever failed, the next append reads the head from the table again.
            AuditChain.Heads.TryRemove(database, out _);
            throw;
        }
        finally
        {
            AuditChain.AppendLock.Release();
        }
    }

    private async Task<(long Sequence, string Hash)> ReadChainHeadAsync(CancellationToken cancellationToken)
    {
        var last = await AuditEntries.AsNoTracking().OrderByDescending(e => e.Sequence).Select(e => new { e.Sequence, e.Hash }).FirstOrDefaultAsync(cancellationToken);
        return (last?.Sequence ?? 0, last?.Hash ?? "");
    }

    /// <summary>Synchronous saves would bypass the audit chain's lock; the server only saves asynchronously.</summary>
    public override int SaveChanges(bool acceptAllChangesOnSuccess) =>
        ChangeTracker.Entries<AuditEntry>().Any(e => e.State == EntityState.Added)
            ? throw new NotSupportedException("save audit records with SaveChangesAsync")
            : base.SaveChanges(acceptAllChangesOnSuccess);
}
