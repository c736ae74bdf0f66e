using System.Buffers.Binary;
using System.Text;
using Porthole.Protocol.Rfb;

namespace Porthole.Server.Vnc;

/// <summary>
/// Authenticates to a VNC server with the stored password on the user's behalf, then offers the viewer security
/// type None, so the password never reaches the browser (RFC 6143 §7.1–7.2). After a successful handshake both
/// streams stand just before ClientInit; the caller relays the rest byte for byte.
/// </summary>
public static class RfbCredentialHandshake
{
    private const int MaxReasonLength = 4096;

    /// <summary>Runs both halves of the handshake. On failure the viewer is told why in RFB terms, and the result says it too.</summary>
    public static async Task<RfbHandshakeResult> RunAsync(Stream server, Stream viewer, string password, CancellationToken cancellationToken)
    {
        var result = await AuthenticateToServerAsync(server, password, cancellationToken).ConfigureAwait(false);
        await OfferNoneToViewerAsync(viewer, result.Error, cancellationToken).ConfigureAwait(false);
        return result;
    }

    /// <summary>The server half: version, security type choice, VNC Authentication, SecurityResult.</summary>
    public static async Task<RfbHandshakeResult> AuthenticateToServerAsync(Stream server, string password, CancellationToken cancellationToken)
    {
        var versionMessage = await ReadAsync(server, RfbVersion.Length, cancellationToken).ConfigureAwait(false);
        if (versionMessage is null || !RfbVersion.TryParse(versionMessage, out var offered))
        {
            return RfbHandshakeResult.Failed("the endpoint did not answer like a VNC server");
        }

        var version = offered.Negotiate();
        await server.WriteAsync(version.ToMessage(), cancellationToken).ConfigureAwait(false);
        await server.FlushAsync(cancellationToken).ConfigureAwait(false);

        byte chosen;
        if (version == RfbVersion.V33)
        {
            // 3.3: the server decides the type on its own (§7.5 of the 3.3 spec).
            var type = await ReadUInt32Async(server, cancellationToken).ConfigureAwait(false);
            if (type is null or 0)
            {
                return RfbHandshakeResult.Failed("the VNC server refused the connection: " + (await ReadReasonAsync(server, cancellationToken).ConfigureAwait(false) ?? "no reason given"), offered);
            }

            chosen = (byte)type.Value;
            if (chosen is not (RfbSecurityType.None or RfbSecurityType.VncAuthentication))
            {
                return RfbHandshakeResult.Failed($"the VNC server requires {RfbSecurityType.Name(chosen)}, which Porthole cannot answer for you", offered);
            }
        }
        else
        {
            var count = await ReadAsync(server, 1, cancellationToken).ConfigureAwait(false);
            if (count is null)
            {
                return RfbHandshakeResult.Failed("the VNC server closed the connection during the handshake", offered);
            }

            if (count[0] == 0)
            {
                return RfbHandshakeResult.Failed("the VNC server refused the connection: " + (await ReadReasonAsync(server, cancellationToken).ConfigureAwait(false) ?? "no reason given"), offered);
            }

            var types = await ReadAsync(server, count[0], cancellationToken).ConfigureAwait(false);
            if (types is null)
            {
                return RfbHandshakeResult.Failed("the VNC server closed the connection during the handshake", offered);
            }

            // A stored password is used whenever the server accepts it; None only when that is all it asks for.
            if (types.Contains(RfbSecurityType.VncAuthentication))
            {
                chosen = RfbSecurityType.VncAuthentication;
            }
            else if (types.Contains(RfbSecurityType.None))
            {
                chosen = RfbSecurityType.None;
            }
            else
            {
                return RfbHandshakeResult.Failed(
                    $"the VNC server offers only {string.Join(", ", types.Select(RfbSecurityType.Name))}; Porthole can answer VNC Authentication or None", offered);
            }

            await server.WriteAsync(new[] { chosen }, cancellationToken).ConfigureAwait(false);
            await server.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        if (chosen == RfbSecurityType.VncAuthentication)
        {
            var challenge = await ReadAsync(server, VncAuthentication.ChallengeLength, cancellationToken).ConfigureAwait(false);
            if (challenge is null)
            {
                return RfbHandshakeResult.Failed("the VNC server closed the connection during authentication", offered);
            }

            await server.WriteAsync(VncAuthentication.Respond(challenge, password), cancellationToken).ConfigureAwait(false);
            await server.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        // SecurityResult: always in 3.8; in 3.3 and 3.7 only after VNC Authentication (§7.1.3).
        if (version == RfbVersion.V38 || chosen == RfbSecurityType.VncAuthentication)
        {
            var status = await ReadUInt32Async(server, cancellationToken).ConfigureAwait(false);
            if (status is null)
            {
                return RfbHandshakeResult.Failed("the VNC server closed the connection after authentication (it may limit failed attempts)", offered);
            }

            if (status != 0)
            {
                var reason = version == RfbVersion.V38 ? await ReadReasonAsync(server, cancellationToken).ConfigureAwait(false) : null;
                return RfbHandshakeResult.Failed("VNC server rejected the stored password" + (reason is null ? "" : $" ({reason})"), offered, passwordRejected: true);
            }
        }

        return RfbHandshakeResult.Succeeded(offered, chosen);
    }

    /// <summary>
    /// The viewer half: we play a 3.8 server offering only None. With <paramref name="failure"/> set we offer no
    /// type at all and send the reason, which viewers such as noVNC show to the user.
    /// </summary>
    public static async Task OfferNoneToViewerAsync(Stream viewer, string? failure, CancellationToken cancellationToken)
    {
        await viewer.WriteAsync(RfbVersion.V38.ToMessage(), cancellationToken).ConfigureAwait(false);
        await viewer.FlushAsync(cancellationToken).ConfigureAwait(false);
        var answer = await ReadAsync(viewer, RfbVersion.Length, cancellationToken).ConfigureAwait(false);
        if (answer is null || !RfbVersion.TryParse(answer, out var viewerVersion))
        {
            return;
        }

        var version = viewerVersion.Negotiate();
        if (failure is not null)
        {
            var reason = Encoding.UTF8.GetBytes(failure);
            var message = new byte[(version == RfbVersion.V33 ? 4 : 1) + 4 + reason.Length];
            var offset = version == RfbVersion.V33 ? 4 : 1;
            BinaryPrimitives.WriteUInt32BigEndian(message.AsSpan(offset), (uint)reason.Length);
            reason.CopyTo(message, offset + 4);
            await viewer.WriteAsync(message, cancellationToken).ConfigureAwait(false);
            await viewer.FlushAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        if (version == RfbVersion.V33)
        {
            var none = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(none, RfbSecurityType.None);
            await viewer.WriteAsync(none, cancellationToken).ConfigureAwait(false);
            await viewer.FlushAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        await viewer.WriteAsync(new byte[] { 1, RfbSecurityType.None }, cancellationToken).ConfigureAwait(false);
        await viewer.FlushAsync(cancellationToken).ConfigureAwait(false);
        var choice = await ReadAsync(viewer, 1, cancellationToken).ConfigureAwait(false);
        if (choice is not null && version == RfbVersion.V38)
        {
            await viewer.WriteAsync(new byte[4], cancellationToken).ConfigureAwait(false);
            await viewer.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<byte[]?> ReadAsync(Stream stream, int length, CancellationToken cancellationToken)
    {
        var buffer = new byte[length];
        try
        {
            await stream.ReadExactlyAsync(buffer, cancellationToken).ConfigureAwait(false);
            return buffer;
        }
        catch (EndOfStreamException)
        {
            return null;
        }
    }

    private static async Task<uint?> ReadUInt32Async(Stream stream, CancellationToken cancellationToken) =>
        await ReadAsync(stream, 4, cancellationToken).ConfigureAwait(false) is { } bytes ? BinaryPrimitives.ReadUInt32BigEndian(bytes) : null;

    private static async Task<string?> ReadReasonAsync(Stream stream, CancellationToken cancellationToken)
    {
        var length = await ReadUInt32Async(stream, cancellationToken).ConfigureAwait(false);
        if (length is null or > MaxReasonLength)
        {
            return null;
        }

        var reason = await ReadAsync(stream, (int)length, cancellationToken).ConfigureAwait(false);
        return reason is null ? null : Encoding.UTF8.GetString(reason);
    }
}

/// <summary>How the server half of the handshake went.</summary>
public sealed record RfbHandshakeResult(bool Success, string? Error, RfbVersion? ServerVersion, byte SecurityType, bool PasswordRejected)
{
    public static RfbHandshakeResult Succeeded(RfbVersion version, byte type) => new(true, null, version, type, false);

    public static RfbHandshakeResult Failed(string error, RfbVersion? version = null, bool passwordRejected = false) => new(false, error, version, 0, passwordRejected);
}
