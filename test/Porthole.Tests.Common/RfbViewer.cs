using Xunit;

using System.Buffers.Binary;
using System.Text;

namespace Porthole.Tests.Common;

/// <summary>A minimal RFB viewer that only knows security type None, as noVNC behaves behind Porthole.</summary>
public static class RfbViewer
{
    public sealed record ServerInit(int Width, int Height, string Name);

    /// <summary>Handshake with None, ClientInit, ServerInit, one full framebuffer update request; returns ServerInit and the first update's message type.</summary>
    public static async Task<(ServerInit Init, byte FirstMessageType)> ConnectAsync(Stream stream, CancellationToken cancellationToken)
    {
        var version = await ReadAsync(stream, 12, cancellationToken);
        Assert.Equal("RFB 003.008\n", Encoding.ASCII.GetString(version));
        await stream.WriteAsync("RFB 003.008\n"u8.ToArray(), cancellationToken);
        var count = await ReadAsync(stream, 1, cancellationToken);
        if (count[0] == 0)
        {
            var length = BinaryPrimitives.ReadUInt32BigEndian(await ReadAsync(stream, 4, cancellationToken));
            throw new InvalidOperationException(Encoding.UTF8.GetString(await ReadAsync(stream, (int)length, cancellationToken)));
        }

        Assert.Equal(new byte[] { 1 }, await ReadAsync(stream, count[0], cancellationToken));
        await stream.WriteAsync(new byte[] { 1 }, cancellationToken);
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32BigEndian(await ReadAsync(stream, 4, cancellationToken)));

        await stream.WriteAsync(new byte[] { 1 }, cancellationToken); // ClientInit: shared
        var header = await ReadAsync(stream, 24, cancellationToken);
        var width = BinaryPrimitives.ReadUInt16BigEndian(header);
        var height = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(2));
        var nameLength = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(20));
        var name = Encoding.UTF8.GetString(await ReadAsync(stream, (int)nameLength, cancellationToken));

        var request = new byte[10];
        request[0] = 3; // FramebufferUpdateRequest, not incremental, whole screen
        BinaryPrimitives.WriteUInt16BigEndian(request.AsSpan(6), width);
        BinaryPrimitives.WriteUInt16BigEndian(request.AsSpan(8), height);
        await stream.WriteAsync(request, cancellationToken);
        var messageType = (await ReadAsync(stream, 1, cancellationToken))[0];
        return (new ServerInit(width, height, name), messageType);
    }

    /// <summary>Reads the failure reason a None-only proxy sends when it could not authenticate.</summary>
    public static async Task<string> ReadRefusalAsync(Stream stream, CancellationToken cancellationToken)
    {
        await ReadAsync(stream, 12, cancellationToken);
        await stream.WriteAsync("RFB 003.008\n"u8.ToArray(), cancellationToken);
        var count = await ReadAsync(stream, 1, cancellationToken);
        Assert.Equal(0, count[0]);
        var length = BinaryPrimitives.ReadUInt32BigEndian(await ReadAsync(stream, 4, cancellationToken));
        return Encoding.UTF8.GetString(await ReadAsync(stream, (int)length, cancellationToken));
    }

    private static async Task<byte[]> ReadAsync(Stream stream, int length, CancellationToken cancellationToken)
    {
        var buffer = new byte[length];
        await stream.ReadExactlyAsync(buffer, cancellationToken);
        return buffer;
    }
}
