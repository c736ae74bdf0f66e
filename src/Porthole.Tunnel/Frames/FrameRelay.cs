using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net.WebSockets;
using System.Text;
using System.Text.Unicode;
using Porthole.Tunnel.Relay;

namespace Porthole.Tunnel.Frames;

/// <summary>
/// The server's relay between two data legs, frame by frame on the connections' own pipes: each client frame's
/// payload is unmasked straight from the input of one connection into the output of the other, the only pass the
/// relay makes over the bytes (docs/design/frame-relay.md). What the peers see is what <see cref="WebSocketRelay"/>
/// gives them: data and <c>fin</c> messages forwarded in order, close frames passed on with their status and
/// reason, a vanished peer reported to the other with 1001, and an expired session closed on both with 1008.
/// Pings are answered on the leg they came from; they are not forwarded.
/// </summary>
public static class FrameRelay
{
    /// <summary>
    /// Frames up to this size are forwarded whole once all of their payload is in, so a frame leaves in one piece and
    /// one flush whatever the reads that brought it (TLS hands over one 16 KiB record at a time, and a piece per record
    /// would cost an extra short TLS record per piece on the way out). Larger frames are forwarded as fragments while
    /// they arrive. It must stay well under what the connection's input buffers (Kestrel: 1 MiB), or a frame could
    /// never be all in.
    /// </summary>
    public const int WholeFrameLimit = 256 * 1024;

    /// <summary>Relays until both sides have closed, one has failed, or <paramref name="lifetime"/> ended the session.</summary>
    public static async Task<RelayResult> RunAsync(FrameLeg client, FrameLeg agent, SessionLifetime? lifetime = null, CancellationToken cancellationToken = default)
    {
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var clientToAgent = ForwardAsync(client, agent, lifetime, abort.Token);
        var agentToClient = ForwardAsync(agent, client, lifetime, abort.Token);
        return await RelayCompletion.WaitAsync(clientToAgent, agentToClient, lifetime, client.CloseOutputAsync, agent.CloseOutputAsync, abort).ConfigureAwait(false);
    }

    private static async Task<PumpResult> ForwardAsync(FrameLeg source, FrameLeg destination, SessionLifetime? lifetime, CancellationToken cancellationToken)
    {
        var forward = new FrameForwarder(source, destination, lifetime);
        var side = PumpSide.Source;
        try
        {
            while (true)
            {
                side = PumpSide.Source;
                var read = await source.ReadAsync(cancellationToken).ConfigureAwait(false);
                if (read.IsCanceled)
                {
                    if (source.IsSilent)
                    {
                        return new PumpResult(PumpEnd.Failed, forward.Bytes, $"{source.Name}: {source.SilenceReason}", PumpSide.Source);
                    }

                    // Someone else's cancellation (Kestrel cancels pending reads when it stops): the session goes on
                    // until it ends its own way (the server's drain closes it with a reason).
                    source.Input.AdvanceTo(read.Buffer.Start);
                    continue;
                }

                side = PumpSide.Destination;
                var buffer = read.Buffer;
                var step = await forward.ForwardAsync(buffer, cancellationToken).ConfigureAwait(false);
                source.Input.AdvanceTo(step.Consumed, step.NeedsMore ? buffer.End : step.Consumed);
                if (step.Forwarded)
                {
                    lifetime?.Touch();
                }

                if (step.End is { } end)
                {
                    return end;
                }

                if (read.IsCompleted)
                {
                    side = PumpSide.Source;
                    return new PumpResult(PumpEnd.Failed, forward.Bytes, $"{source.Name}: connection closed without a close frame", PumpSide.Source);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return new PumpResult(PumpEnd.Canceled, forward.Bytes, "cancelled");
        }
        catch (OperationCanceledException)
        {
            // Not ours: the server aborted the connection under the relay (Kestrel's ConnectionAbortedException).
            var who = side == PumpSide.Source ? source.Name : destination.Name;
            return new PumpResult(PumpEnd.Failed, forward.Bytes, $"{who}: connection aborted", side);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
        {
            var who = side == PumpSide.Source ? source.Name : destination.Name;
            return new PumpResult(PumpEnd.Failed, forward.Bytes, $"{who}: {WebSocketPump.Describe(ex)}", side);
        }
    }

    /// <summary>What one pass over the input did.</summary>
    /// <param name="Consumed">Where the input not used up begins.</param>
    /// <param name="NeedsMore">Whether the rest is an incomplete frame that needs more input.</param>
    /// <param name="Forwarded">Whether anything was written to the destination.</param>
    /// <param name="End">Set when the direction is over (a close frame, a protocol violation, the destination gone).</param>
    private readonly record struct Step(SequencePosition Consumed, bool NeedsMore, bool Forwarded, PumpResult? End);

    /// <summary>The state of one direction: the frame being forwarded in pieces, and the message it belongs to.</summary>
    private sealed class FrameForwarder(FrameLeg source, FrameLeg destination, SessionLifetime? lifetime)
    {
        // A frame over WholeFrameLimit whose header has gone out and whose payload is still arriving.
        private FrameHeader _cutThrough;
        private long _remaining;
        private bool _cutThroughStarted;
        private uint _mask;

        // Whether the source is inside a fragmented message (a frame without FIN has been read).
        private bool _inMessage;

        // Set when a close frame has gone out to the destination (forwarded, or the server's own): data for it is dropped.
        private bool _destinationClosed;

        public long Bytes { get; private set; }

        public async ValueTask<Step> ForwardAsync(ReadOnlySequence<byte> input, CancellationToken cancellationToken)
        {
            // What is left of the input, sliced forward as frames are used up (never re-sliced from the start).
            var rest = input;
            var needsMore = false;
            var locked = false;
            PumpResult? end = null;
            try
            {
                while (!rest.IsEmpty || _remaining > 0)
                {
                    if (_remaining > 0)
                    {
                        // The next piece of a large frame: whatever of it has arrived.
                        var piece = Math.Min(_remaining, rest.Length);
                        if (piece == 0)
                        {
                            needsMore = true;
                            break;
                        }

                        locked = locked || await TryLockAsync(cancellationToken).ConfigureAwait(false);
                        var last = piece == _remaining;
                        var opcode = _cutThroughStarted ? FrameOpcode.Continuation : _cutThrough.Opcode;
                        Emit(locked, last && _cutThrough.Fin, opcode, rest.Slice(0, piece), ref _mask);
                        _cutThroughStarted = true;
                        _remaining -= piece;
                        rest = rest.Slice(piece);
                        continue;
                    }

                    var status = FrameHeader.TryRead(rest, out var header, out var error);
                    if (status == OperationStatus.NeedMoreData)
                    {
                        needsMore = true;
                        break;
                    }

                    error ??= Violation(header);
                    if (error is not null)
                    {
                        _ = source.CloseOutputAsync(WebSocketCloseStatus.ProtocolError, error);
                        end = new PumpResult(PumpEnd.Failed, Bytes, $"{source.Name}: invalid WebSocket frame: {error}", PumpSide.Source);
                        break;
                    }

                    var available = rest.Length - header.HeaderLength;
                    if (header.IsControl || header.PayloadLength <= WholeFrameLimit)
                    {
                        if (available < header.PayloadLength)
                        {
                            needsMore = true;
                            break;
                        }

                        var payload = rest.Slice(header.HeaderLength, header.PayloadLength);
                        rest = rest.Slice(payload.End);
                        if (header.IsControl)
                        {
                            end = await ControlAsync(header, payload, locked, cancellationToken).ConfigureAwait(false);
                            if (end is not null)
                            {
                                break;
                            }

                            continue;
                        }

                        _inMessage = !header.Fin;
                        locked = locked || await TryLockAsync(cancellationToken).ConfigureAwait(false);
                        var mask = header.Mask;
                        Emit(locked, header.Fin, header.Opcode, payload, ref mask);
                        continue;
                    }

                    // Too large to wait for: the header is taken now and the payload follows in pieces.
                    _inMessage = !header.Fin;
                    _cutThrough = header;
                    _remaining = header.PayloadLength;
                    _cutThroughStarted = false;
                    _mask = header.Mask;
                    rest = rest.Slice(header.HeaderLength);
                }

                if (locked)
                {
                    if (!await destination.FlushAsync(cancellationToken).ConfigureAwait(false))
                    {
                        end ??= new PumpResult(PumpEnd.Failed, Bytes, $"{destination.Name}: connection closed", PumpSide.Destination);
                    }
                }
            }
            finally
            {
                if (locked)
                {
                    destination.ExitWrite();
                }
            }

            return new Step(rest.Start, needsMore, Forwarded: locked, end);
        }

        /// <summary>
        /// What is wrong with a close frame's payload (RFC 6455 sections 5.5.1 and 7.4), if anything: passed on as it
        /// is, a status the peer's WebSocket refuses would fail the other side with a protocol error of its own.
        /// </summary>
        private static string? InvalidClose(byte[] payload)
        {
            if (payload.Length == 0)
            {
                return null;
            }

            if (payload.Length == 1)
            {
                return "close frame with a 1-byte payload";
            }

            var status = BinaryPrimitives.ReadUInt16BigEndian(payload);
            var allowed = status is (>= 1000 and <= 1014 and not (1004 or 1005 or 1006)) or (>= 3000 and <= 4999);
            return !allowed ? $"close status {status} may not be sent"
                : !Utf8.IsValid(payload.AsSpan(2)) ? "close reason is not UTF-8"
                : null;
        }

        /// <summary>Protocol rules across frames (RFC 6455 section 5.4): continuations only inside a message, new messages only outside one.</summary>
        private string? Violation(FrameHeader header) => header.Opcode switch
        {
            FrameOpcode.Continuation when !_inMessage => "continuation frame outside a fragmented message",
            FrameOpcode.Text or FrameOpcode.Binary when _inMessage => "new message inside a fragmented message",
            _ => null,
        };

        /// <summary>Takes the destination's write lock once per pass; after a close has gone out there, its data is dropped.</summary>
        private async ValueTask<bool> TryLockAsync(CancellationToken cancellationToken)
        {
            if (_destinationClosed)
            {
                return false;
            }

            _destinationClosed = !await destination.EnterWriteAsync(cancellationToken).ConfigureAwait(false);
            return !_destinationClosed;
        }

        /// <summary>Writes one frame to the destination, its payload unmasked on the way; counts it even when dropped.</summary>
        private void Emit(bool locked, bool fin, FrameOpcode opcode, ReadOnlySequence<byte> payload, ref uint mask)
        {
            Bytes += payload.Length;
            if (!locked)
            {
                return;
            }

            var output = destination.Output;
            var header = FrameHeader.WriteUnmasked(output.GetSpan(FrameHeader.MaxUnmaskedLength), fin, opcode, payload.Length);
            output.Advance(header);
            FrameMask.UnmaskCopy(payload, output, ref mask);
        }

        /// <summary>Answers a ping, ignores a pong, passes a close frame on (and ends this direction).</summary>
        private async ValueTask<PumpResult?> ControlAsync(FrameHeader header, ReadOnlySequence<byte> masked, bool locked, CancellationToken cancellationToken)
        {
            var payload = FrameMask.Unmask(masked, header.Mask);

            switch (header.Opcode)
            {
                case FrameOpcode.Ping:
                    source.OwePong(payload);
                    return null;
                case FrameOpcode.Pong:
                    return null;
            }

            if (InvalidClose(payload) is { } invalid)
            {
                _ = source.CloseOutputAsync(WebSocketCloseStatus.ProtocolError, invalid);
                return new PumpResult(PumpEnd.Failed, Bytes, $"{source.Name}: invalid WebSocket frame: {invalid}", PumpSide.Source);
            }

            // Passed on as it came, status and reason, unless the destination has had a close frame already, or the
            // session has ended and the relay closes the destination itself (SessionLifetime.HasEnded says why).
            var pass = lifetime?.HasEnded != true;
            if (pass && locked)
            {
                destination.WriteControl(FrameOpcode.Close, payload);
            }
            else if (pass && !_destinationClosed)
            {
                await destination.SendControlAsync(FrameOpcode.Close, payload).ConfigureAwait(false);
            }

            _destinationClosed = true;
            var reason = payload.Length > 2 ? Encoding.UTF8.GetString(payload, 2, payload.Length - 2) : "";
            return new PumpResult(PumpEnd.PeerClosed, Bytes, reason);
        }
    }
}
