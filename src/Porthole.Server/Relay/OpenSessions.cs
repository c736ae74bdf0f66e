using Microsoft.EntityFrameworkCore;
using Porthole.Protocol.Api;
using Porthole.Server.Data;
using Porthole.Server.Devices;
using Porthole.Server.Identity;
using Porthole.Server.WebProxy;

namespace Porthole.Server.Relay;

/// <summary>
/// The open sessions a caller may see and end: tunnel sessions from the broker and web sessions from the registry
/// (whose pooled connections are not listed on their own) — the caller's own, and those on devices where the caller
/// holds <c>sessions:manage</c>.
/// </summary>
public sealed class OpenSessions(ISessionBroker broker, WebSessionRegistry webSessions, PortholeDbContext db, DeviceCatalog catalog)
{
    public async Task<List<OpenSessionView>> VisibleAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var all = All();
        var access = context.GetUserAccess();
        var deviceIds = all.Select(s => s.DeviceId).Distinct().ToList();
        var devices = await db.Devices.AsNoTracking().Include(d => d.Tags).Where(d => deviceIds.Contains(d.Id)).ToDictionaryAsync(d => d.Id, cancellationToken);
        return [.. all.Where(s => s.UserId == access.UserId
            || (devices.TryGetValue(s.DeviceId, out var device) && access.Can(Permissions.SessionsManage, device)))
            .OrderBy(s => s.CreatedAt)];
    }

    /// <summary>
    /// Ends every open session, tunnel or web, on a device whose remote access the committed rules now disable; each is
    /// told which rule did it. Called after a commit (whose transaction has moved the read cache on, so the catalog reads
    /// the rules just committed): disabling remote access cuts access now, not only for the next session.
    /// </summary>
    /// <returns>The sessions ended, with the rule that disabled each one's device.</returns>
    public async Task<List<(OpenSessionView Session, string Source)>> EndWhereDisabledAsync(CancellationToken cancellationToken)
    {
        var open = All();
        if (open.Count == 0)
        {
            return [];
        }

        var deviceIds = open.Select(s => s.DeviceId).Distinct().ToList();
        var devices = await db.Devices.AsNoTracking().Include(d => d.Tags).Where(d => deviceIds.Contains(d.Id)).ToListAsync(cancellationToken);
        var ended = new List<(OpenSessionView, string)>();
        foreach (var device in devices)
        {
            var effective = await catalog.EffectiveAsync(device, cancellationToken);
            if (effective.Enabled)
            {
                continue;
            }

            foreach (var session in await EndOnDeviceAsync(device.Id, $"remote access to device '{device.Name}' was disabled by {effective.Source}"))
            {
                ended.Add((session, effective.Source));
            }
        }

        return ended;
    }

    /// <summary>Ends every open session, tunnel or web, on one device, each told <paramref name="reason"/>.</summary>
    public async Task<List<OpenSessionView>> EndOnDeviceAsync(string deviceId, string reason)
    {
        var ended = All().Where(s => s.DeviceId == deviceId).ToList();
        foreach (var session in ended)
        {
            await EndAsync(session, reason);
        }

        return ended;
    }

    /// <summary>Tunnel sessions from the broker and web sessions from the registry (a web session's pooled connections are not listed on their own).</summary>
    private List<OpenSessionView> All() =>
        [.. broker.Active.Where(s => s.Target.WebSessionId is null).Select(OpenSessionView.Of).Concat(webSessions.Active.Select(OpenSessionView.Of))];

    /// <summary>Ends a session; both ends of a tunnel session are told <paramref name="reason"/>, a web session's page says it ended.</summary>
    public async Task EndAsync(OpenSessionView session, string reason)
    {
        if (session.Action == Actions.Web && webSessions.Active.FirstOrDefault(w => w.Id == session.Id) is { } web)
        {
            await webSessions.EndAsync(web, reason);
            return;
        }

        if (broker.Find(session.Id) is { } tunnel && tunnel.Lifetime?.End(reason) != true)
        {
            broker.Remove(tunnel);
        }
    }
}

/// <summary>One open session as lists show it.</summary>
public sealed record OpenSessionView(
    string Id, string UserId, string Username, string DeviceId, string DeviceName, string EndpointName, string Action, string Protocol, string? ClientAddress,
    DateTimeOffset CreatedAt, bool Joined)
{
    public static OpenSessionView Of(PendingSession s) => new(
        s.Id, s.Target.UserId, s.Target.Username, s.Target.DeviceId, s.Target.DeviceName, s.Target.EndpointName, s.Target.Action, s.Target.Protocol,
        s.Target.ClientAddress, s.CreatedAt, s.Joined);

    public static OpenSessionView Of(WebSession s) => new(
        s.Id, s.UserId, s.Info.Username, s.DeviceId, s.Info.DeviceName, s.Info.EndpointName, Actions.Web, s.Info.Protocol, s.Info.ClientAddress, s.CreatedAt, Joined: true);

    public ActiveSessionDto ToDto() => new(Id, Username, DeviceName, EndpointName, Action, Protocol, ClientAddress, CreatedAt, Joined);
}
