using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Porthole.Server.Data;

namespace Porthole.Server.Audit;

/// <summary>
/// The hash chain that makes the audit log tamper-evident: each record's hash covers its content and the
/// previous record's hash, so editing, deleting or reordering a record breaks every link after it.
/// </summary>
public static class AuditChain
{
    /// <summary>Serialises appends within this process so the chain never forks (one writer on SQLite).</summary>
    internal static SemaphoreSlim AppendLock { get; } = new(1, 1);

    /// <summary>
    /// The last record appended to each database (by connection string), read from the table once and then kept, so an
    /// append costs one statement instead of two (two appends per session; issue 7). Taken and set under
    /// <see cref="AppendLock"/>; forgotten when an append fails. A record removed from the end behind the server's back
    /// now shows as a gap at the next append, where re-reading the head would have hidden it.
    /// </summary>
    internal static System.Collections.Concurrent.ConcurrentDictionary<string, (long Sequence, string Hash)> Heads { get; } = new(StringComparer.Ordinal);

    public static string ComputeHash(AuditEntry entry)
    {
        // Length-prefixed fields: no separator inside a value can make two different records hash alike.
        var canonical = new StringBuilder();
        foreach (var field in Fields(entry))
        {
            var value = field ?? "\0";
            canonical.Append(value.Length.ToString(CultureInfo.InvariantCulture)).Append(':').Append(value).Append(';');
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical.ToString())));
    }

    private static IEnumerable<string?> Fields(AuditEntry e) =>
    [
        e.Sequence.ToString(CultureInfo.InvariantCulture),
        e.At.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
        e.Actor, e.Action, e.Target, e.Outcome, e.Detail, e.ClientAddress,
        e.PreviousHash,
    ];

    /// <summary>Checks records in sequence order; returns the first broken one, or <c>null</c> when the chain holds.</summary>
    public static AuditBreak? Verify(IEnumerable<AuditEntry> orderedBySequence)
    {
        var previous = "";
        long expectedSequence = 1;
        foreach (var entry in orderedBySequence)
        {
            if (entry.Sequence != expectedSequence)
            {
                return new AuditBreak(entry.Sequence, $"expected record {expectedSequence} next, found {entry.Sequence} (records missing)");
            }

            if (entry.PreviousHash != previous)
            {
                return new AuditBreak(entry.Sequence, "its link to the previous record does not match");
            }

            if (ComputeHash(entry) != entry.Hash)
            {
                return new AuditBreak(entry.Sequence, "its content does not match its hash (edited)");
            }

            previous = entry.Hash;
            expectedSequence++;
        }

        return null;
    }
}

/// <summary>The first record where the audit chain breaks.</summary>
public sealed record AuditBreak(long Sequence, string Reason);
