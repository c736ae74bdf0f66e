namespace Porthole.Server.Hosting;

/// <summary>
/// Session limits for the holders of one role, bound from <c>Porthole:RoleLimits:&lt;Role&gt;</c> (for example
/// <c>Porthole:RoleLimits:Technician:SessionMaxLifetime=00:30:00</c>). A value left out falls back to the global
/// setting of the same name. Each default: unset.
/// </summary>
public sealed class RoleSessionLimits
{
    /// <summary>Overrides <see cref="PortholeServerOptions.SessionIdleTimeout"/> for this role.</summary>
    public TimeSpan? SessionIdleTimeout { get; set; }

    /// <summary>Overrides <see cref="PortholeServerOptions.SessionMaxLifetime"/> for this role.</summary>
    public TimeSpan? SessionMaxLifetime { get; set; }

    /// <summary>Overrides <see cref="PortholeServerOptions.MaxSessionsPerUser"/> for this role.</summary>
    public int? MaxSessionsPerUser { get; set; }
}

/// <summary>The limits one session runs under, resolved from the roles that allowed it.</summary>
public sealed record SessionLimits(TimeSpan IdleTimeout, TimeSpan MaxLifetime, int MaxSessionsPerUser);
