using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;

namespace Porthole.Tunnel.Tests.Support;

internal static class StreamExtensions
{
    /// <summary>Reads to EOF and returns the bytes.</summary>
    public static async Task<byte[]> ReadToEndAsync(this Stream stream, CancellationToken cancellationToken = default)
    {
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer, cancellationToken);
        return buffer.ToArray();
    }

    /// <summary>Reads to EOF and returns the SHA-256 and the length.</summary>
    public static async Task<(byte[] Hash, long Length)> HashToEndAsync(this Stream stream, CancellationToken cancellationToken = default)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[81920];
        long length = 0;
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
        {
            sha.AppendData(buffer, 0, read);
            length += read;
        }

        return (sha.GetHashAndReset(), length);
    }

    /// <summary>Receives one whole message (all fragments).</summary>
    public static async Task<(WebSocketMessageType Type, byte[] Payload)> ReceiveMessageAsync(this WebSocket webSocket, CancellationToken cancellationToken = default)
    {
        using var payload = new MemoryStream();
        var buffer = new byte[16 * 1024];
        while (true)
        {
            var result = await webSocket.ReceiveAsync(buffer.AsMemory(), cancellationToken);
            payload.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                return (result.MessageType, payload.ToArray());
            }
        }
    }

    /// <summary>Receives messages until a close frame and returns the bytes of the binary messages before it.</summary>
    public static async Task<byte[]> ReceiveUntilCloseAsync(this WebSocket webSocket, CancellationToken cancellationToken = default)
    {
        using var payload = new MemoryStream();
        while (true)
        {
            var (type, bytes) = await webSocket.ReceiveMessageAsync(cancellationToken);
            if (type == WebSocketMessageType.Close)
            {
                return payload.ToArray();
            }

            payload.Write(bytes);
        }
    }

    public static Task SendTextAsync(this WebSocket webSocket, string text) =>
        webSocket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);

    public static Task SendBinaryAsync(this WebSocket webSocket, byte[] bytes, bool endOfMessage = true) =>
        webSocket.SendAsync(bytes, WebSocketMessageType.Binary, endOfMessage, CancellationToken.None);
}
