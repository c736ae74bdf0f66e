using System.Globalization;

namespace Porthole.Server.Web;

/// <summary>How the console writes times: relative for a glance, the exact UTC time in a tooltip.</summary>
public static class Display
{
    public static string Utc(DateTimeOffset? at) =>
        at is { } value ? value.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture) : "";

    public static string Ago(DateTimeOffset? at, DateTimeOffset now)
    {
        if (at is not { } value)
        {
            return "never";
        }

        var elapsed = now - value;
        return elapsed.TotalSeconds switch
        {
            < 60 => "just now",
            < 3600 => $"{(int)elapsed.TotalMinutes} min ago",
            < 86400 => $"{(int)elapsed.TotalHours} h ago",
            < 86400 * 30 => $"{(int)elapsed.TotalDays} d ago",
            _ => value.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        };
    }
}
