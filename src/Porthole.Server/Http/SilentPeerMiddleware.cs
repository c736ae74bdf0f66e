using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Porthole.Server.Hosting;
using Porthole.Tunnel.Transport;

namespace Porthole.Server.Http;

/// <summary>
/// Puts a <see cref="SilentPeerStream"/> under every WebSocket the server accepts (HTTP/1.1 upgrade and HTTP/2
/// extended CONNECT), so a peer that goes silent without a FIN is noticed within the keep-alive limit even when the
/// session is idle, and a merely back-pressured peer is never taken for dead (see <see cref="KeepAliveSettings"/>).
/// Runs before <c>UseWebSockets</c>, which takes these features when it sees the request.
/// </summary>
public sealed class SilentPeerMiddleware(RequestDelegate next, IOptions<PortholeServerOptions> options, TimeProvider time)
{
    public Task InvokeAsync(HttpContext context)
    {
        var keepAlive = options.Value.KeepAlive;
        if (context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true } upgrade)
        {
            context.Features.Set<IHttpUpgradeFeature>(new WatchedUpgrade(upgrade, keepAlive, time));
        }

        if (context.Features.Get<IHttpExtendedConnectFeature>() is { IsExtendedConnect: true } connect)
        {
            context.Features.Set<IHttpExtendedConnectFeature>(new WatchedConnect(connect, keepAlive, time));
        }

        return next(context);
    }

    private sealed class WatchedUpgrade(IHttpUpgradeFeature inner, KeepAliveSettings keepAlive, TimeProvider time) : IHttpUpgradeFeature
    {
        public bool IsUpgradableRequest => inner.IsUpgradableRequest;

        public async Task<Stream> UpgradeAsync() => new SilentPeerStream(await inner.UpgradeAsync().ConfigureAwait(false), keepAlive, time);
    }

    private sealed class WatchedConnect(IHttpExtendedConnectFeature inner, KeepAliveSettings keepAlive, TimeProvider time) : IHttpExtendedConnectFeature
    {
        public bool IsExtendedConnect => inner.IsExtendedConnect;

        public string? Protocol => inner.Protocol;

        public async ValueTask<Stream> AcceptAsync() => new SilentPeerStream(await inner.AcceptAsync().ConfigureAwait(false), keepAlive, time);
    }
}
