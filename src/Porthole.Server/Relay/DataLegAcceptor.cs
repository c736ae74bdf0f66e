using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Porthole.Protocol.Control;
using Porthole.Server.Hosting;
using Porthole.Tunnel.Frames;
using Porthole.Tunnel.Transport;

namespace Porthole.Server.Relay;

/// <summary>
/// Accepts a session's data WebSocket (<c>porthole.data</c>). Over HTTP/1.1, with <see cref="PortholeServerOptions.FrameRelay"/>
/// on, the server answers the handshake itself (RFC 6455 section 4.2.2) and keeps the connection's decrypted pipes
/// for the <see cref="FrameRelay"/>; otherwise ASP.NET Core's WebSocket middleware accepts it.
/// </summary>
public sealed class DataLegAcceptor(IOptions<PortholeServerOptions> options, TimeProvider time)
{
    // RFC 6455 section 1.3: the GUID the accept value is derived with.
    private static readonly byte[] HandshakeGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"u8.ToArray();

    /// <summary>
    /// Accepts the WebSocket the caller has checked <c>IsWebSocketRequest</c> for; <paramref name="name"/> says who is at
    /// the other end. <paramref name="subProtocol"/>: a session's data leg by default, or the agent's streams connection.
    /// </summary>
    public async Task<DataLeg> AcceptAsync(HttpContext context, string name, string subProtocol = ControlProtocol.DataSubProtocol)
    {
        var settings = options.Value;
        var webSocketOptions = new WebSocketCreationOptions
        {
            IsServer = true,
            SubProtocol = subProtocol,
            KeepAliveInterval = settings.KeepAliveInterval,
            KeepAliveTimeout = KeepAliveSettings.WebSocketPongTimeout,
        };

        // Over HTTP/1.1 the connection's transport is the decrypted byte stream the upgraded request reads and writes.
        // Over HTTP/2 it would be the multiplexed connection: those legs stay WebSockets.
        if (!settings.FrameRelay
            || context.Features.Get<IHttpUpgradeFeature>() is not { IsUpgradableRequest: true } upgrade
            || context.Features.Get<IConnectionTransportFeature>()?.Transport is not { } transport)
        {
            return DataLeg.OverWebSocket(await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
            {
                SubProtocol = webSocketOptions.SubProtocol,
                KeepAliveInterval = webSocketOptions.KeepAliveInterval,
                KeepAliveTimeout = webSocketOptions.KeepAliveTimeout,
            }));
        }

        var headers = context.Response.Headers;
        headers.Connection = "Upgrade";
        headers.Upgrade = "websocket";
        headers.SecWebSocketAccept = AcceptValue(context.Request.Headers.SecWebSocketKey.ToString());
        headers.SecWebSocketProtocol = subProtocol;

        // The upgraded stream (watched by SilentPeerMiddleware) is what a WebSocket made later runs on; the frame relay
        // uses the pipes beneath it and never touches the stream.
        var stream = await upgrade.UpgradeAsync();
        var frames = new FrameLeg(transport, name, settings.KeepAlive, time);

        // On Porthole's own transport the leg is read and relayed on a thread of its own while data flows.
        context.Features.Get<Transport.IHotPathFeature>()?.UseHotPath();
        return DataLeg.OverPipes(frames, stream, webSocketOptions);
    }

    /// <summary>Sec-WebSocket-Accept: base64 of the SHA-1 of the client's key and the protocol's GUID.</summary>
    internal static string AcceptValue(string key)
    {
        // The middleware's IsWebSocketRequest has checked the key is 24 characters (16 bytes in base64).
        var keyLength = Encoding.ASCII.GetByteCount(key);
        Span<byte> input = keyLength <= 64 ? stackalloc byte[keyLength + HandshakeGuid.Length] : new byte[keyLength + HandshakeGuid.Length];
        Encoding.ASCII.GetBytes(key, input);
        HandshakeGuid.CopyTo(input[keyLength..]);
        return Convert.ToBase64String(SHA1.HashData(input));
    }
}
