using Microsoft.EntityFrameworkCore;

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

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<User>(user =>
        {
            user.HasIndex(u => u.Username).IsUnique();
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

        modelBuilder.Entity<AuditEntry>(entry =>
        {
            entry.HasIndex(e => e.At);
        });
    }
}
