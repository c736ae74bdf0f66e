using Porthole.Tunnel.Transport;

namespace Porthole.Tunnel.Tests.Streams;

/// <summary>
/// Wraps the server's end of a connection so a test can make its writes stall as a congested socket's do: half of a
/// write goes out, the rest waits until <see cref="Resume"/>. Cancelled meanwhile, the write throws with its first half
/// sent, as a socket send cancelled part-way does.
/// </summary>
internal sealed class StallingStream(Stream inner) : LayeredStream(inner)
{
    private readonly TaskCompletionSource _stalled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _resumed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _stalling;

    /// <summary>Completes when a write has stalled.</summary>
    public Task Stalled => _stalled.Task;

    /// <summary>From now on, writes stall halfway.</summary>
    public void Stall() => _stalling = true;

    /// <summary>Writes go on: a stalled one sends its second half.</summary>
    public void Resume()
    {
        _stalling = false;
        _resumed.TrySetResult();
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (!_stalling || buffer.Length < 2)
        {
            await Inner.WriteAsync(buffer, cancellationToken);
            return;
        }

        var half = buffer.Length / 2;
        await Inner.WriteAsync(buffer[..half], CancellationToken.None);
        _stalled.TrySetResult();
        await _resumed.Task.WaitAsync(cancellationToken);
        await Inner.WriteAsync(buffer[half..], CancellationToken.None);
    }
}
