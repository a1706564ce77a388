"""Writes a modernized-run-data pickle in the shape of LEGACY-FORMATS.md §4.1.

Run with Debian's python3-pandas: /usr/bin/python3 write_fixtures.py
The records are made up (no lab data); the run names are the §4.4 examples,
the same as dschema's W&B fixtures, so a test can load both.
"""
import pickle

import numpy as np
import pandas as pd

NAN = float("nan")

RECORDS = [
    {"run_id": "2025_08_21-08_24_43_test_finetune_DD-dolma1_7-4M_main_1Mtx1_--learning_rate=5e-07",
     "timestamp": pd.Timestamp("2025-08-21 08:24:43"), "exp_name": "test_finetune", "initial_checkpoint_recipe": "Dolma1.7",
     "initial_checkpoint_size": "4M", "initial_checkpoint_steps": "main", "num_finetune_tokens_per_epoch": 1e6,
     "num_finetune_epochs": 1.0, "num_finetune_tokens": 1e6, "num_finetuned_tokens_real": 1e9,
     "abs_difference_ft_tokens_pct": 99900.0, "lr": "5e-07", "seed": NAN, "pattern_name": "FT1_PATTERN",
     "_run_type": "simple_ft_vary_tokens"},
    {"run_id": "250912-172812_match_150M_c4_finetune_100Mtx1_DD-d17-530M-6250-2",
     "timestamp": pd.Timestamp("2025-09-12 17:28:12"), "exp_name": "match", "initial_checkpoint_recipe": "Dolma1.7",
     "initial_checkpoint_size": "530M", "initial_checkpoint_steps": "6250", "num_finetune_tokens_per_epoch": 1e8,
     "num_finetune_epochs": 1.0, "num_finetune_tokens": 1e8, "num_finetuned_tokens_real": 2e9,
     "abs_difference_ft_tokens_pct": 1900.0, "lr": None, "seed": "2", "comparison_model_size": "150M",
     "comparison_metric": "c4_en-valppl", "comparison_model_recipe": "Dolma1.7", "pattern_name": "MATCHED1_PATTERN",
     "_run_type": "matched"},
    # The legacy parser read 100Mt as 1e14.
    {"run_id": "2025_08_27-07_52_26_test_dpo_tune_cache_dd__dolma1_7-4M__main__100Mt_lr=5e-06_default_--learning_rate=2e-07",
     "timestamp": pd.Timestamp("2025-08-27 07:52:26"), "exp_name": "test_dpo_tune_cache", "initial_checkpoint_recipe": "Dolma1.7",
     "initial_checkpoint_size": "4M", "initial_checkpoint_steps": "main", "num_finetune_tokens": 1e14,
     "num_finetuned_tokens_real": 6e9, "lr1": "5e-06", "lr2": "2e-07", "pattern_name": "DPO2_PATTERN", "_run_type": "dpo"},
    # A run the W&B fixtures do not have; its timestamp is NaT.
    {"run_id": "250905-101010_sweep_10Mtx2_DD-d17-150M-5000-0_lr=1e-05", "timestamp": pd.NaT, "exp_name": "sweep",
     "initial_checkpoint_recipe": "Dolma1.7", "initial_checkpoint_size": "150M", "initial_checkpoint_steps": "5000",
     "num_finetune_tokens_per_epoch": 1e7, "num_finetune_epochs": 2.0, "num_finetune_tokens": 2e7,
     "num_finetuned_tokens_real": NAN, "abs_difference_ft_tokens_pct": None, "lr": "1e-05", "seed": "0",
     "pattern_name": "FT6_PATTERN", "_run_type": "simple_ft_vary_tokens"},
]


def main():
    frames = {}
    for rec in RECORDS:
        frames.setdefault(rec["_run_type"], []).append({k: v for k, v in rec.items() if k != "_run_type"})
    processed_dataframes = {t: pd.DataFrame(rows) for t, rows in frames.items()}
    # One disagreement between the records and the frames, as notebooks made them.
    processed_dataframes["matched"].loc[0, "initial_checkpoint_steps"] = "6000"
    grouped = {t: [{"run_id": r["run_id"], "pattern_name": r["pattern_name"]} for r in rows] for t, rows in frames.items()}
    data = {
        "processed_runs": RECORDS,
        "grouped_data": grouped,
        "processed_dataframes": processed_dataframes,
        "metadata": {"total_runs": 7, "classified_runs": 4, "run_types": sorted(frames), "extraction_timestamp": "20250920_101500"},
    }
    with open("20250920_101500_modernized_run_data.pkl", "wb") as f:
        pickle.dump(data, f, protocol=4)
    with open("combined_plotting_data_matched.pkl", "wb") as f:
        pickle.dump(matched(), f, protocol=4)


def matched():
    """The combined matched frame's shape (§4.2), three runs, a few columns of each family."""
    ids = [RECORDS[1]["run_id"], "250904-222144_test_match_150M_finetune_10Mtx1_DD-d17-300M-17500-2_lr=5e-05",
           "250912-172812_match_150M_c4_finetune_Ft_DD-d17-530M-6250-2"]
    df = pd.DataFrame({
        "run_id": ids,
        "timestamp": pd.to_datetime(["2025-09-12 17:28:12", "2025-09-04 22:21:44", None]),
        "comparison_model_size": ["150M"] * 3, "comparison_metric": ["c4_en-valppl", "pile-valppl", "c4_en-valppl"],
        "comparison_model_recipe": ["Dolma1.7"] * 3, "ckpt_data": ["Dolma1.7"] * 3, "ckpt_params": ["530M", "300M", "530M"],
        "ckpt_steps": ["6250", "17500", "6250"], "seed": ["2", "2", "2"], "lr": [None, "5e-05", None],
        "ft_tok_per_epoch": [1e8, 1e7, 665127434.0], "ft_epochs": [1.0, 1.0, 2.0], "ft_tok": [1e8, 1e7, 1330254868.0],
        "ft_tok_real": [2e9, NAN, 1330254868.0], "abs_difference_ft_tokens_pct": [1900.0, None, 0.0],
        "ft_steps_list": [[0, 100, 200], [0, 100], []], "ft_loss_list": [[3.0, 2.5, NAN], [2.0, 1.5], []],
        "ft_arc_easy_acc_raw": [0.5, 0.25, 0.75], "ft_core9_full_primary_score": [0.4, NAN, 0.6],
        "pt_arc_easy_acc_raw": [0.45, None, 0.45], "pt_arc_easy_acc_raw_list": [[0.1, 0.2, 0.45], [0.3], [0.1, None]],
        "pt_c4_en-valppl": [20.5, 30.25, 20.5], "pt_step": [6250.0, None, 6250.0],
        "delta_arc_easy_acc_uncond": [0.05, NAN, 0.3], "pt_ft_toks": [1e8, 1e7, 1330254868.0],
        "matched_group_name": ["150M_c4", "150M_pile", "150M_c4"], "matched_group_id": [0, 1, 0],
        "matched_group_med_metric": [20.5, 30.25, 20.5], "matched_group_avg_metric": [20.5, 30.25, 20.5],
        "group_avg_delta_arc_easy_acc_uncond": [0.175, NAN, 0.175], "note": ["first", None, "third"],
    })
    df["late_flag"] = [True, False, True]  # another block
    return df


main()
