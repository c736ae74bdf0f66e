using System.Buffers;
using System.Buffers.Binary;
using System.Net.WebSockets;
using System.Numerics;
using System.Text;
using Porthole.Tunnel.Frames;
using Porthole.Tunnel.Relay;

namespace Porthole.Tunnel.Streams;

/// <summary>
/// The server's relay between a client's leg (its connection's pipes) and the agent's leg when that is a stream on the
/// agent's streams connection, read on its pipes too (<see cref="StreamMux(FrameLeg, string, StreamWindowBudget)"/>). Client frames are
/// unmasked straight into stream frames on the streams connection, as the window allows; the agent's frames, unmasked
/// once into the stream's buffers by the connection's reader, are written straight into client frames. The peers see
/// what <see cref="FrameRelay"/> gives them: bytes and <c>fin</c> in order, closes passed on with status and reason,
/// a vanished side reported to the other, an expired session closed on both.
/// </summary>
public static class StreamRelay
{
    // At most this much of the agent's queued data goes out to the client in one flush.
    private const int MaxBatch = 512 * 1024;

    /// <summary>Whether <paramref name="stream"/> can be relayed this way (its connection is read on its pipes).</summary>
    public static bool CanRelay(MuxStream stream) => stream.Mux.Pipes is not null;

    /// <summary>Relays until both sides have closed, one has failed, or <paramref name="lifetime"/> ended the session.</summary>
    public static async Task<RelayResult> RunAsync(FrameLeg client, MuxStream agent, SessionLifetime? lifetime = null, CancellationToken cancellationToken = default)
    {
        var connection = agent.Mux.Pipes ?? throw new InvalidOperationException("the stream's connection is not read on its pipes");
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var clientToAgent = new ClientToStream(client, agent, connection, lifetime).RunAsync(abort.Token);
        var agentToClient = StreamToClientAsync(agent, client, lifetime, abort.Token);
        return await RelayCompletion.WaitAsync(
            clientToAgent, agentToClient, lifetime, client.CloseOutputAsync,
            (status, reason) => WebSocketClosing.CloseOutputAsync(agent, status, reason), abort).ConfigureAwait(false);
    }

    /// <summary>The agent's frames to the client: what is queued goes out in one flush, then its credit goes back.</summary>
    private static async Task<PumpResult> StreamToClientAsync(MuxStream agent, FrameLeg client, SessionLifetime? lifetime, CancellationToken cancellationToken)
    {
        long total = 0;
        var side = PumpSide.Source;
        try
        {
            while (true)
            {
                side = PumpSide.Source;
                var chunk = await agent.TakeChunkAsync(cancellationToken).ConfigureAwait(false);
                side = PumpSide.Destination;
                if (chunk.Type == StreamFrameType.Close)
                {
                    return await PassCloseAsync(chunk, client, agent, lifetime, total).ConfigureAwait(false);
                }

                if (!await client.EnterWriteAsync(cancellationToken).ConfigureAwait(false))
                {
                    // The client has been sent a close already (the session is ending): what the agent still sends is dropped.
                    Return(chunk);
                    await agent.ReleaseAsync(chunk.Length).ConfigureAwait(false);
                    continue;
                }

                var (bytes, pending) = (0, (MuxStream.Chunk?)null);
                try
                {
                    while (true)
                    {
                        bytes += Write(client, chunk);
                        if (bytes >= MaxBatch || !agent.TryTakeChunk(out var next))
                        {
                            break;
                        }

                        if (next.Type == StreamFrameType.Close)
                        {
                            pending = next;
                            break;
                        }

                        chunk = next;
                    }

                    if (!await client.FlushAsync(cancellationToken).ConfigureAwait(false))
                    {
                        return new PumpResult(PumpEnd.Failed, total, $"{client.Name}: connection closed", PumpSide.Destination);
                    }
                }
                finally
                {
                    client.ExitWrite();
                }

                total += bytes;
                lifetime?.Touch();
                await agent.ReleaseAsync(bytes).ConfigureAwait(false);
                if (pending is { } close)
                {
                    return await PassCloseAsync(close, client, agent, lifetime, total).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return new PumpResult(PumpEnd.Canceled, total, "cancelled");
        }
        catch (OperationCanceledException)
        {
            return new PumpResult(PumpEnd.Failed, total, $"{client.Name}: connection aborted", PumpSide.Destination);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException or WebSocketException)
        {
            var who = side == PumpSide.Source ? "agent" : client.Name;
            return new PumpResult(PumpEnd.Failed, total, $"{who}: {WebSocketPump.Describe(ex)}", side);
        }
    }

    /// <summary>Writes one data or <c>fin</c> frame to the client inside the caller's write batch; returns the data bytes.</summary>
    private static int Write(FrameLeg client, MuxStream.Chunk chunk)
    {
        var output = client.Output;
        if (chunk.Type == StreamFrameType.Fin)
        {
            var span = output.GetSpan(2 + DataFrames.Fin.Length);
            var header = FrameHeader.WriteUnmasked(span, fin: true, FrameOpcode.Text, DataFrames.Fin.Length);
            DataFrames.Fin.Span.CopyTo(span[header..]);
            output.Advance(header + DataFrames.Fin.Length);
            return 0;
        }

        var length = FrameHeader.WriteUnmasked(output.GetSpan(FrameHeader.MaxUnmaskedLength), fin: true, FrameOpcode.Binary, chunk.Length);
        output.Advance(length);
        output.Write(chunk.Data.AsSpan(chunk.Offset, chunk.Length));
        Return(chunk);
        return chunk.Length;
    }

    private static void Return(MuxStream.Chunk chunk)
    {
        if (chunk.Data is not null)
        {
            ArrayPool<byte>.Shared.Return(chunk.Data);
        }
    }

    /// <summary>Passes the agent's close (or the loss of its connection, 1001) on to the client; the direction is over.</summary>
    private static async Task<PumpResult> PassCloseAsync(MuxStream.Chunk close, FrameLeg client, MuxStream agent, SessionLifetime? lifetime, long total)
    {
        var reason = close.Reason ?? "";

        // Not passed on once the session has ended: the relay closes the client itself, with the session's reason.
        var pass = lifetime?.HasEnded != true;
        if (pass && close.Status is { } status and not WebSocketCloseStatus.Empty)
        {
            await client.CloseOutputAsync(status, reason).ConfigureAwait(false);
        }
        else if (pass)
        {
            await client.SendControlAsync(FrameOpcode.Close, ReadOnlyMemory<byte>.Empty).ConfigureAwait(false);
        }

        // A lost connection is the agent vanishing, not closing: reported as a failed source, so that the relay gives the
        // client WebSocketClosing.Timeout to answer, as FrameRelay does, rather than waiting for an answer no agent can
        // receive for as long as the session may live (a client that never answered held its session until it idled out).
        return agent.Mux.IsEnded
            ? new PumpResult(PumpEnd.Failed, total, "agent: streams connection lost", PumpSide.Source)
            : new PumpResult(PumpEnd.PeerClosed, total, reason);
    }

    /// <summary>The client's frames to the agent's stream: payloads unmasked straight into stream frames on the streams connection.</summary>
    private sealed class ClientToStream(FrameLeg client, MuxStream agent, FrameLegStreamTransport connection, SessionLifetime? lifetime)
    {
        // The data frame whose payload is being forwarded, and its mask at the next byte.
        private long _remaining;
        private uint _mask;

        // Whether the client is inside a fragmented message (RFC 6455 section 5.4).
        private bool _inMessage;
        private long _bytes;

        public async Task<PumpResult> RunAsync(CancellationToken cancellationToken)
        {
            var side = PumpSide.Source;
            try
            {
                while (true)
                {
                    side = PumpSide.Source;
                    var read = await client.ReadAsync(cancellationToken).ConfigureAwait(false);
                    if (read.IsCanceled)
                    {
                        if (client.IsSilent)
                        {
                            return new PumpResult(PumpEnd.Failed, _bytes, $"{client.Name}: {client.SilenceReason}", PumpSide.Source);
                        }

                        client.Input.AdvanceTo(read.Buffer.Start);
                        continue;
                    }

                    side = PumpSide.Destination;
                    var buffer = read.Buffer;
                    var (consumed, needsMore, forwarded, end) = await ForwardAsync(buffer, cancellationToken).ConfigureAwait(false);
                    client.Input.AdvanceTo(consumed, needsMore ? buffer.End : consumed);
                    if (forwarded)
                    {
                        lifetime?.Touch();
                    }

                    if (end is { } result)
                    {
                        return result;
                    }

                    if (read.IsCompleted)
                    {
                        return new PumpResult(PumpEnd.Failed, _bytes, $"{client.Name}: connection closed without a close frame", PumpSide.Source);
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return new PumpResult(PumpEnd.Canceled, _bytes, "cancelled");
            }
            catch (OperationCanceledException)
            {
                var who = side == PumpSide.Source ? client.Name : "agent";
                return new PumpResult(PumpEnd.Failed, _bytes, $"{who}: connection aborted", side);
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException or WebSocketException)
            {
                var who = side == PumpSide.Source ? client.Name : "agent";
                return new PumpResult(PumpEnd.Failed, _bytes, $"{who}: {WebSocketPump.Describe(ex)}", side);
            }
        }

        /// <summary>One pass over the client's input: whatever the window allows goes out in one flush of the streams connection.</summary>
        private async ValueTask<(SequencePosition Consumed, bool NeedsMore, bool Forwarded, PumpResult? End)> ForwardAsync(ReadOnlySequence<byte> input, CancellationToken cancellationToken)
        {
            var rest = input;
            var locked = false;
            var forwarded = false;
            try
            {
                while (true)
                {
                    if (_remaining > 0)
                    {
                        // A stream frame goes out when the rest of the client's frame is in, or a full stream frame of
                        // it, as FrameRelay forwards whole frames: not a piece per read. A piece per TLS record cost
                        // a frame each all the way (a flush and a short record more here, a read and a write to the
                        // target on the agent): a quarter of the throughput towards the agent (docs/performance.md).
                        var wanted = (int)Math.Min(_remaining, StreamFrame.MaxData);
                        var available = (int)Math.Min(rest.Length, wanted);
                        if (available < wanted)
                        {
                            return (rest.Start, true, forwarded, null);
                        }

                        var granted = agent.TakeWindow(available, out var drop);
                        if (granted == 0)
                        {
                            // Out of credit: what is written goes out, and the client waits (its TCP window fills) until the agent has caught up.
                            // The flag is cleared before the flush, which lets go of the lock even when it throws: the
                            // finally below must not let go of it again (that failed the relay with SemaphoreFullException,
                            // or, with another writer waiting, let two write the shared connection at once).
                            if (locked)
                            {
                                locked = false;
                                await ReleaseAsync(true).ConfigureAwait(false);
                            }

                            await agent.WaitForWindowAsync(cancellationToken).ConfigureAwait(false);
                            continue;
                        }

                        if (drop)
                        {
                            // The agent has closed the stream: its bytes go nowhere, as a WebSocket's after the peer's
                            // close (sent past the window, they would make the agent's mux end the shared connection).
                            _mask = BitOperations.RotateRight(_mask, 8 * (granted & 3));
                            (_remaining, _bytes) = (_remaining - granted, _bytes + granted);
                            rest = rest.Slice(granted);
                            continue;
                        }

                        locked = locked || await EnterAsync(cancellationToken).ConfigureAwait(false);
                        connection.WriteHeader(agent.Id, StreamFrameType.Data, granted);
                        FrameMask.UnmaskCopy(rest.Slice(0, granted), connection.Leg.Output, ref _mask);
                        (_remaining, _bytes, forwarded) = (_remaining - granted, _bytes + granted, true);
                        rest = rest.Slice(granted);
                        continue;
                    }

                    var status = FrameHeader.TryRead(rest, out var header, out var error);
                    if (status == OperationStatus.NeedMoreData)
                    {
                        return (rest.Start, true, forwarded, null);
                    }

                    error ??= header.Opcode switch
                    {
                        FrameOpcode.Continuation when !_inMessage => "continuation frame outside a fragmented message",
                        FrameOpcode.Binary when _inMessage => "new message inside a fragmented message",
                        FrameOpcode.Text when _inMessage || !header.Fin || header.PayloadLength > DataFrames.MaxControlFrameBytes => "unexpected text message on a data channel",
                        _ => null,
                    };
                    if (error is not null)
                    {
                        _ = client.CloseOutputAsync(WebSocketCloseStatus.ProtocolError, error);
                        return (rest.Start, false, forwarded, new PumpResult(PumpEnd.Failed, _bytes, $"{client.Name}: invalid WebSocket frame: {error}", PumpSide.Source));
                    }

                    if (header.Opcode is FrameOpcode.Binary or FrameOpcode.Continuation)
                    {
                        _inMessage = !header.Fin;
                        (_remaining, _mask) = (header.PayloadLength, header.Mask);
                        rest = rest.Slice(header.HeaderLength);
                        continue;
                    }

                    // Control frames and fin: whole, and small.
                    if (rest.Length - header.HeaderLength < header.PayloadLength)
                    {
                        return (rest.Start, true, forwarded, null);
                    }

                    var payload = FrameMask.Unmask(rest.Slice(header.HeaderLength, header.PayloadLength), header.Mask);
                    rest = rest.Slice(header.HeaderLength + header.PayloadLength);
                    switch (header.Opcode)
                    {
                        case FrameOpcode.Ping:
                            client.OwePong(payload);
                            continue;
                        case FrameOpcode.Pong:
                            continue;
                        case FrameOpcode.Text when DataFrames.IsFin(payload):
                            agent.CheckCanSend();
                            locked = locked || await EnterAsync(cancellationToken).ConfigureAwait(false);
                            connection.WriteHeader(agent.Id, StreamFrameType.Fin, 0);
                            forwarded = true;
                            continue;
                        case FrameOpcode.Text:
                            _ = client.CloseOutputAsync(WebSocketCloseStatus.ProtocolError, "unexpected text message on a data channel");
                            return (rest.Start, false, forwarded, new PumpResult(PumpEnd.Failed, _bytes, $"{client.Name}: unexpected text message on a data channel", PumpSide.Source));
                    }

                    // A close: what is written goes out first, then the close with its status and reason. (The flag
                    // is cleared before the flush, as above: the finally must not let go of the lock a second time.)
                    if (locked)
                    {
                        locked = false;
                        await ReleaseAsync(true).ConfigureAwait(false);
                    }

                    return (rest.Start, false, forwarded, await PassCloseAsync(payload).ConfigureAwait(false));
                }
            }
            finally
            {
                if (locked)
                {
                    await ReleaseAsync(locked).ConfigureAwait(false);
                }
            }
        }

        private async ValueTask<bool> EnterAsync(CancellationToken cancellationToken)
        {
            if (!await connection.Leg.EnterWriteAsync(cancellationToken).ConfigureAwait(false))
            {
                throw new WebSocketException(WebSocketError.ConnectionClosedPrematurely, "the streams connection is closing");
            }

            return true;
        }

        /// <summary>Flushes what the pass wrote and lets other streams write; returns <c>false</c> (not locked any more).</summary>
        /// <remarks>
        /// The flush is never cancelled with the relay: a write to the shared connection cut off part-way leaves half a
        /// frame on the wire, and every other stream on the connection then reads garbage (as IStreamTransport.SendAsync
        /// says). Only the wait for the lock is cancellable.
        /// </remarks>
        private async ValueTask<bool> ReleaseAsync(bool locked)
        {
            if (!locked)
            {
                return false;
            }

            try
            {
                if (!await connection.Leg.FlushAsync(CancellationToken.None).ConfigureAwait(false))
                {
                    throw new WebSocketException(WebSocketError.ConnectionClosedPrematurely, "the streams connection is closed");
                }
            }
            finally
            {
                connection.Leg.ExitWrite();
            }

            return false;
        }

        /// <summary>The client's close goes to the agent's stream as it came (a status the stream cannot carry is refused as a protocol error).</summary>
        private async Task<PumpResult> PassCloseAsync(byte[] payload)
        {
            var status = payload.Length >= 2 ? (WebSocketCloseStatus)BinaryPrimitives.ReadUInt16BigEndian(payload) : WebSocketCloseStatus.Empty;
            var reason = payload.Length > 2 ? Encoding.UTF8.GetString(payload, 2, payload.Length - 2) : "";
            if (payload.Length == 1 || (status != WebSocketCloseStatus.Empty && !StreamFrame.IsSendableCloseStatus((int)status)))
            {
                _ = client.CloseOutputAsync(WebSocketCloseStatus.ProtocolError, "invalid close frame");
                return new PumpResult(PumpEnd.Failed, _bytes, $"{client.Name}: invalid WebSocket frame: invalid close frame", PumpSide.Source);
            }

            if (lifetime?.HasEnded != true)
            {
                await WebSocketClosing.CloseOutputAsync(agent, status, reason).ConfigureAwait(false);
            }

            return new PumpResult(PumpEnd.PeerClosed, _bytes, reason);
        }
    }
}
