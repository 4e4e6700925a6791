"""Reading a Stripe balance-transactions export: the provider's job; reconcile compares."""

from datetime import UTC, datetime

from zbor.payments.stripe import parse_balance_export

HEADER = "id,Type,Source,Amount,Fee,Currency,Created (UTC),charge_id\n"


def test_charges_and_refunds_are_read_in_minor_units_with_the_days_they_cover():
    export = parse_balance_export(
        (
            HEADER + "txn_1,charge,ch_1,50.00,1.75,eur,2026-11-02 10:00,\n"
            "txn_2,refund,re_1,-10.00,0,eur,2026-11-03 09:00,ch_1\n"
            "txn_3,payment_refund,pyr_1,-5.00,0,eur,2026-11-03 11:00,\n"
        ).encode()
    )
    assert export.readable and export.rows == 3 and not export.problems
    assert export.charges == {"ch_1": (5000, 175, "EUR")}
    assert export.refunds_by_charge == {"ch_1": 1000} and export.unattributed_refunds == 500
    assert export.period() == (
        datetime(2026, 11, 2, tzinfo=UTC),
        datetime(2026, 11, 3, 23, 59, 59, 999999, tzinfo=UTC),
    )


def test_lines_it_cannot_read_are_named_and_a_missing_column_stops_the_reading():
    export = parse_balance_export(
        (
            HEADER + "txn_1,charge,ch_1,fifty,0,eur,,\ntxn_2,charge,ch_2,1,0,xx,,\ntxn_3,charge,ch_3,1,0,eur,later,\n"
        ).encode()
    )
    assert export.rows == 3 and export.period() is None
    assert [p.split(":")[0] for p in export.problems] == [f"Stripe export line {n}" for n in (2, 3, 4)]
    lacking = parse_balance_export(b"id,type,amount\n")
    assert not lacking.readable and "lacks the columns" in lacking.problems[0]
