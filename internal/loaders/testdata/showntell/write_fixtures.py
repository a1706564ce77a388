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
        pickle.dump(pd.DataFrame({"run_id": [RECORDS[1]["run_id"]], "ft_loss_list": [[2.5, 2.0]]}), f, protocol=4)


main()
