using System.Globalization;

namespace Porthole.Cli.Output;

/// <summary>How values look in human output: times in UTC, absent values as "-".</summary>
public static class Formats
{
    /// <summary>An absolute UTC time, e.g. <c>2026-11-25 08:25:29Z</c>.</summary>
    public static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("u", CultureInfo.InvariantCulture);

    /// <summary>How long ago <paramref name="time"/> was, or "never".</summary>
    public static string Ago(DateTimeOffset? time, DateTimeOffset now)
    {
        if (time is not { } at)
        {
            return "never";
        }

        var age = now - at;
        return age.TotalSeconds switch
        {
            < 60 => "just now",
            < 3600 => $"{(int)age.TotalMinutes}m ago",
            < 86400 => $"{(int)age.TotalHours}h ago",
            _ => $"{(int)age.TotalDays}d ago",
        };
    }

    /// <summary>The value, or "-" when it is absent.</summary>
    public static string OrDash(string? value) => string.IsNullOrEmpty(value) ? "-" : value;

    /// <summary>The values separated by commas, or "-" when there are none.</summary>
    public static string List(IEnumerable<string>? values) => OrDash(values is null ? null : string.Join(',', values));

    /// <summary>"yes" or "no".</summary>
    public static string YesNo(bool value) => value ? "yes" : "no";
}
