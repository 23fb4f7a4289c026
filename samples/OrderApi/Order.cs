namespace OrderApi;

/// <summary>A row of the <c>orders</c> table. Its confirmation job has the order's id as its own.</summary>
public sealed record Order(Guid Id, string Customer, decimal Amount, DateTime CreatedAt);
