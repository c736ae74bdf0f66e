using Microsoft.Data.Sqlite;

namespace Porthole.Server.Audit;

/// <summary>
/// Writes audit records of events that already happened and cannot be answered with a 503 (a session that has
/// ended): when the store is locked or full, it retries in the background of that request for up to
/// <see cref="GiveUpAfter"/>, and only then logs the record it could not keep, so the event is never silently lost.
/// </summary>
public static partial class DurableAuditWriter
{
    /// <summary>How long to keep trying. Default: 2 minutes.</summary>
    public static readonly TimeSpan GiveUpAfter = TimeSpan.FromMinutes(2);

    private static readonly TimeSpan Pause = TimeSpan.FromSeconds(1);

    public static async Task WriteAsync(
        IServiceScopeFactory scopes, ILogger logger, string actor, string action, string? target, string outcome, string? detail, string? clientAddress)
    {
        var started = TimeProvider.System.GetTimestamp();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                await scope.ServiceProvider.GetRequiredService<AuditLog>().WriteAsync(actor, action, target, outcome, detail, clientAddress).ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (Http.ExceptionChain.Find<SqliteException>(ex) is { SqliteErrorCode: 5 or 6 or 13 } sqlite)
            {
                if (TimeProvider.System.GetElapsedTime(started) >= GiveUpAfter)
                {
                    Lost(logger, action, target ?? "", detail ?? "", sqlite.SqliteErrorCode);
                    return;
                }

                Retrying(logger, action, attempt, sqlite.SqliteErrorCode);
                await Task.Delay(Pause).ConfigureAwait(false);
            }
        }
    }

    [LoggerMessage(EventId = 40, Level = LogLevel.Warning, Message = "Audit record {Action} not stored yet (attempt {Attempt}, SQLite error {Code}); retrying")]
    private static partial void Retrying(ILogger logger, string action, int attempt, int code);

    [LoggerMessage(EventId = 41, Level = LogLevel.Error, Message = "Audit record lost after retries (SQLite error {Code}): {Action} {Target}: {Detail}")]
    private static partial void Lost(ILogger logger, string action, string target, string detail, int code);
}
