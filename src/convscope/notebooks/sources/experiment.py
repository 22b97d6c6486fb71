# %% [markdown]
# # Experiment: __EXPERIMENT__
#
# Claims about CNNs should come with evidence. This notebook runs one experiment at the quick
# budget (one seed, small networks, about a minute at most) and shows its verdict, its numbers
# with their intervals, and its figures.

# %%
from convscope.experiments import REGISTRY, run_experiment

experiment = REGISTRY["__EXPERIMENT__"]
print("claim:", experiment.claim)

# %%
result = run_experiment("__EXPERIMENT__", quick=True, seeds=1)
result

# %% [markdown]
# One seed decides little: the report (`convscope report`) runs five seeds at the full budget
# and prints a t-interval for every number. Run more seeds here with `seeds=3`.
